import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The generated SQL migrations shipped with this build (apps/server/drizzle). */
export const migrationsFolder = new URL('../../drizzle', import.meta.url).pathname;

/** One migration of this build's journal (drizzle's `meta/_journal.json`). */
export interface KnownMigration {
  tag: string;
  /** drizzle records this as `created_at` in `drizzle.__drizzle_migrations` */
  when: number;
  hash: string;
}

/** One row of `drizzle.__drizzle_migrations`. */
export interface AppliedMigration {
  hash: string;
  createdAt: number;
}

export interface SchemaLevel {
  /** this build's migrations, oldest first */
  known: KnownMigration[];
  /** rows in the database's migrations table */
  applied: AppliedMigration[];
  /** this build's migrations the database has not had yet */
  pending: KnownMigration[];
  /** migrations the database has that this build does not know: a newer maas migrated it */
  unknown: AppliedMigration[];
  /** the tag of the newest applied migration this build knows, or null on an empty database */
  level: string | null;
}

/** Runs one SQL statement and returns its rows (node-postgres, PGlite and the PGlite thread all fit). */
export type RunQuery = (sql: string) => Promise<Record<string, unknown>[]>;

/** The database holds a migration this build does not know: a newer maas migrated it. */
export class NewerSchemaError extends Error {
  constructor(readonly unknown: AppliedMigration[]) {
    super(
      `the database schema is newer than this build of maas: it has ${unknown.length} migration(s) this build does not know ` +
        `(created_at ${unknown.map((m) => m.createdAt).join(', ')}). Nothing was changed. Run the maas version that migrated it, ` +
        'or restore a backup taken before the upgrade (see docs/operations.md, "Upgrade, rollback, backup and restore").',
    );
  }
}

export function readKnownMigrations(folder = migrationsFolder): KnownMigration[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string; when: number }[];
  };
  return journal.entries.map((e) => ({
    tag: e.tag,
    when: e.when,
    // the same hash drizzle's migrator records
    hash: createHash('sha256')
      .update(readFileSync(join(folder, `${e.tag}.sql`)).toString())
      .digest('hex'),
  }));
}

export async function readAppliedMigrations(query: RunQuery): Promise<AppliedMigration[]> {
  const [table] = await query(`select to_regclass('drizzle.__drizzle_migrations') is not null as present`);
  if (!table?.present) return [];
  const rows = await query('select hash, created_at from drizzle.__drizzle_migrations order by created_at');
  return rows.map((r) => ({ hash: String(r.hash), createdAt: Number(r.created_at) }));
}

/** Compares the database's applied migrations with this build's journal. */
export function compareLevels(known: KnownMigration[], applied: AppliedMigration[]): SchemaLevel {
  const knownWhen = new Set(known.map((m) => m.when));
  const unknown = applied.filter((m) => !knownWhen.has(m.createdAt));
  // drizzle applies whatever is newer than the last applied migration
  const last = applied.reduce((max, m) => Math.max(max, m.createdAt), Number.NEGATIVE_INFINITY);
  const pending = known.filter((m) => m.when > last);
  const appliedKnown = known.filter((m) => m.when <= last);
  return { known, applied, pending, unknown, level: appliedKnown.at(-1)?.tag ?? null };
}

export async function readSchemaLevel(query: RunQuery, known = readKnownMigrations()): Promise<SchemaLevel> {
  return compareLevels(known, await readAppliedMigrations(query));
}
