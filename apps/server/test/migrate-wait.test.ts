import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScratchDatabase, type SpawnedServer, spawnServer, testDatabaseUrl } from '@maas/testkit';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `MAAS_MIGRATE=wait` (replicas beside a Helm hook Job): `maas serve` does not migrate, and serves
 * only once `maas migrate` has brought the database to the schema it needs.
 */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const base = testDatabaseUrl();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function maasMigrate(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'apps/cli/src/bin.ts', 'migrate'],
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

async function baseEnv(): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'maas-migrate-wait-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  return {
    MAAS_PORT: '0',
    MAAS_LOG_LEVEL: 'info',
    MAAS_DATA_DIR: dataDir,
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    MAAS_MIGRATE: 'wait',
    MAAS_MIGRATE_TIMEOUT_S: '120',
  };
}

describe('MAAS_MIGRATE=wait', () => {
  it.skipIf(!base)(
    'serves only after maas migrate has run',
    async () => {
      const scratch = await createScratchDatabase(base!);
      cleanups.push(() => scratch.drop());
      const env = { ...(await baseEnv()), DATABASE_URL: scratch.url };
      let server: SpawnedServer | undefined;
      const serving = spawnServer(env, { timeoutMs: 150_000 }).then((s) => {
        server = s;
        cleanups.push(() => s.stop());
        return s;
      });
      serving.catch(() => {});
      // not serving while the schema is missing
      await new Promise((r) => setTimeout(r, 15_000));
      expect(server).toBeUndefined();
      const migrate = await maasMigrate(env);
      expect(migrate.code, migrate.out).toBe(0);
      expect(migrate.out).toMatch(/applied \d+ migration/);
      const s = await serving;
      // it said what it waited for, and it is ready now
      expect(s.output.join('\n')).toMatch(
        /MAAS_MIGRATE=wait: waiting for the database schema.*run `maas migrate`/,
      );
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      await s.stop();
    },
    240_000,
  );

  it('on an embedded database, fails at once with what to run', async () => {
    const env = await baseEnv();
    const err = await spawnServer(env, { timeoutMs: 120_000 }).then(
      (s) => {
        cleanups.push(() => s.stop());
        return null;
      },
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/exited \(1\) before serving/);
    expect(err?.message).toMatch(/migrations not applied yet .*run `maas migrate`/);
  }, 180_000);
});
