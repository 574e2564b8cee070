import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import lockfile from 'proper-lockfile';
import { ensurePrivateDir, tightenTree } from '../private-dir.ts';
import { type MigrationResult, migrateChecked, migrateLocked } from './migrate.ts';
import { PgliteThread } from './pglite-thread.ts';
import * as schema from './schema.ts';
import { migrationsFolder, type RunQuery, readSchemaLevel, type SchemaLevel } from './schema-level.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Repositories accept either the database or an open transaction. */
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /**
   * Applies pending migrations; refuses (NewerSchemaError, nothing touched) when the database has a
   * migration this build does not know. On PostgreSQL under an advisory lock (see migrate.ts).
   */
  migrate(): Promise<MigrationResult>;
  /** the database's migrations compared with this build's */
  schemaLevel(): Promise<SchemaLevel>;
  /** one raw SQL statement (operations: backups, row counts) */
  query: RunQuery;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DataDirLockedError extends Error {}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** PGlite directory; `memory://` keeps everything in memory (tests). */
  dataDir?: string;
  poolSize?: number;
  /** the embedded database's thread died and is being started again */
  onRestart?: (cause: Error) => void;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 20);
  return openPglite(opts.dataDir ?? 'memory://', opts.onRestart);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  // loaded here: an embedded installation never needs the PostgreSQL driver
  const [{ default: pg }, { drizzle: drizzlePg }, { migrate: migratePg }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
    import('drizzle-orm/node-postgres/migrator'),
  ]);
  const pool = new pg.Pool({ connectionString: url, max });
  // A connection that dies (database restart, network cut) must not crash the process: the error
  // reaches whoever queries next, and the pool replaces the connection.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  const query: RunQuery = async (sql) => (await pool.query(sql)).rows;
  return {
    db,
    driver: 'postgres',
    async migrate() {
      // the lock, the checks and the migration all run on one connection, which holds the lock
      const client = await pool.connect();
      try {
        const onClient: RunQuery = async (sql) => (await client.query(sql)).rows;
        return await migrateLocked(onClient, onClient, () =>
          migratePg(drizzlePg(client), { migrationsFolder }),
        );
      } finally {
        client.release();
      }
    },
    schemaLevel: () => readSchemaLevel(query),
    query,
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string, onRestart?: (cause: Error) => void): Promise<Database> {
  let release: (() => Promise<void>) | undefined;
  let dir: string | undefined;
  if (!dataDir.startsWith('memory://')) {
    ensurePrivateDir(dataDir);
    dir = join(dataDir, 'pgdata');
    ensurePrivateDir(dir);
    try {
      // Two processes on one PGlite directory would corrupt it: the second is refused.
      release = await lockfile.lock(dir, { stale: 15_000, update: 5_000, realpath: false });
    } catch {
      throw new DataDirLockedError(
        `data directory ${dataDir} is in use by another maas process (only one process may open an embedded database; use DATABASE_URL for several)`,
      );
    }
  }
  const client = new PgliteThread(dir, onRestart);
  try {
    await client.waitReady;
    if (dir) tightenTree(dir);
  } catch (err) {
    await client.close();
    await release?.();
    throw err;
  }
  // drizzle's PGlite driver only calls query() and transaction(), which the thread provides
  const pglite = client as unknown as PGlite;
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  const query: RunQuery = async (sql) => (await client.query(sql)).rows as Record<string, unknown>[];
  return {
    db,
    driver: 'pglite',
    // one process per directory (the lock file above): no advisory lock needed
    migrate: () => migrateChecked(query, () => migratePglite(drizzlePglite(pglite), { migrationsFolder })),
    schemaLevel: () => readSchemaLevel(query),
    query,
    ping: async () => {
      await client.query('select 1');
    },
    close: async () => {
      await client.close();
      if (dir) tightenTree(dir);
      await release?.();
    },
  };
}
