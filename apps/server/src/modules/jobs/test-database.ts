import { createScratchDatabase, testDatabaseUrl } from '@maas/testkit';
import { type Database, openDatabase } from '../../db/client.ts';

/** A migrated database for engine tests: in-memory PGlite, or a scratch PostgreSQL database. */
export async function openTestDatabase(): Promise<{
  database: Database;
  url?: string;
  drop(): Promise<void>;
}> {
  const base = testDatabaseUrl();
  if (!base) {
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    return { database, drop: () => database.close() };
  }
  const scratch = await createScratchDatabase(base);
  const database = await openDatabase({ databaseUrl: scratch.url, poolSize: 5 });
  await database.migrate();
  return {
    database,
    url: scratch.url,
    async drop() {
      await database.close();
      await scratch.drop();
    },
  };
}
