import { createScratchDatabase, testDatabaseUrl } from '@maas/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from './client.ts';
import { SchemaWaitTimeoutError, waitForSchema } from './migrate.ts';
import { compareLevels, NewerSchemaError, readKnownMigrations } from './schema-level.ts';

const known = readKnownMigrations();
const base = testDatabaseUrl();
const scratches: { drop(): Promise<void> }[] = [];
const opened: Database[] = [];
afterAll(async () => {
  for (const d of opened) await d.close().catch(() => {});
  for (const s of scratches) await s.drop();
});

/** A fresh, empty database: a scratch PostgreSQL database when MAAS_TEST_DATABASE_URL is set, else in-memory PGlite. */
async function freshDatabase(): Promise<{ url: string | undefined; open(): Promise<Database> }> {
  const scratch = base ? await createScratchDatabase(base) : undefined;
  if (scratch) scratches.push(scratch);
  return {
    url: scratch?.url,
    async open() {
      const db = await openDatabase({ databaseUrl: scratch?.url, dataDir: 'memory://', poolSize: 4 });
      opened.push(db);
      return db;
    },
  };
}

const silent = { info() {}, warn() {} };

describe('schema levels', () => {
  it("compares the database's migrations with this build's journal", () => {
    const applied = known.slice(0, 3).map((m) => ({ hash: m.hash, createdAt: m.when }));
    const level = compareLevels(known, applied);
    expect(level.level).toBe(known[2]!.tag);
    expect(level.pending.map((m) => m.tag)).toEqual(known.slice(3).map((m) => m.tag));
    expect(level.unknown).toEqual([]);
    const newer = compareLevels(known, [...applied, { hash: 'x', createdAt: known.at(-1)!.when + 1 }]);
    expect(newer.unknown).toHaveLength(1);
    expect(compareLevels(known, []).level).toBeNull();
  });
});

describe(`migrations (${base ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  it('refuses a database with a migration this build does not know, and touches nothing', async () => {
    const fresh = await freshDatabase();
    const db = await fresh.open();
    const first = await db.migrate();
    expect(first.applied).toHaveLength(known.length);
    expect((await db.migrate()).applied).toEqual([]); // current: nothing to do
    // the newest migration looks pending, and an unknown one sits between two known ones
    const last = known.at(-1)!;
    await db.query(`delete from drizzle.__drizzle_migrations where created_at = ${last.when}`);
    await db.query(
      `insert into drizzle.__drizzle_migrations (hash, created_at) values ('from-a-newer-build', ${known[1]!.when + 1})`,
    );
    const before = await db.query('select hash, created_at from drizzle.__drizzle_migrations order by id');
    const err = await db.migrate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NewerSchemaError);
    expect((err as Error).message).toMatch(/newer than this build.*Nothing was changed/);
    expect(await db.query('select hash, created_at from drizzle.__drizzle_migrations order by id')).toEqual(
      before,
    );
    // a replica told to wait fails at once instead of waiting for a schema it will never have
    await expect(waitForSchema(() => db.schemaLevel(), { timeoutMs: 60_000, log: silent })).rejects.toThrow(
      NewerSchemaError,
    );
  }, 120_000);

  it('waits for the schema, and gives up after its timeout', async () => {
    const fresh = await freshDatabase();
    const db = await fresh.open();
    const started = Date.now();
    await expect(
      waitForSchema(() => db.schemaLevel(), { timeoutMs: 300, everyMs: 50, log: silent }),
    ).rejects.toThrow(SchemaWaitTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    const waiting = waitForSchema(() => db.schemaLevel(), { timeoutMs: 60_000, everyMs: 50, log: silent });
    await db.migrate();
    expect((await waiting).level).toBe(known.at(-1)!.tag);
  }, 120_000);

  it.skipIf(!base)(
    'two migrators at once on a fresh database: both succeed, each migration applied once',
    async () => {
      const fresh = await freshDatabase();
      const [a, b] = [await fresh.open(), await fresh.open()];
      const results = await Promise.all([a.migrate(), b.migrate()]);
      expect(results.map((r) => r.applied.length).sort((x, y) => x - y)).toEqual([0, known.length]);
      expect(results.every((r) => r.level === known.at(-1)!.tag)).toBe(true);
      const rows = await a.query(
        'select created_at, count(*)::int as n from drizzle.__drizzle_migrations group by created_at',
      );
      expect(rows).toHaveLength(known.length);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    },
    120_000,
  );
});
