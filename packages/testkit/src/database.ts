import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * When MAAS_TEST_DATABASE_URL is set the suites run on that PostgreSQL server: every test server
 * gets a fresh database of its own, dropped afterwards. Otherwise they run on in-memory PGlite.
 */
export function testDatabaseUrl(): string | undefined {
  return process.env.MAAS_TEST_DATABASE_URL || undefined;
}

export function testRedisUrl(): string | undefined {
  return process.env.MAAS_TEST_REDIS_URL || undefined;
}

export async function createScratchDatabase(
  baseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `maas_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
