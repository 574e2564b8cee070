import type { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { type MigrationResult, migrateChecked, migrateLocked } from './migrate.ts';
import { type EmbeddedDatabase, openEmbedded } from './open-embedded.ts';
import * as schema from './schema.ts';
import { migrationsFolder, type RunQuery, readSchemaLevel, type SchemaLevel } from './schema-level.ts';

export { DataDirLockedError } from './open-embedded.ts';

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

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** PGlite directory; `memory://` keeps everything in memory (tests). */
  dataDir?: string;
  poolSize?: number;
  /** the embedded database's thread died and is being started again */
  onRestart?: (cause: Error) => void;
  /** the embedded database of `dataDir`, already being opened (openEmbedded); not with databaseUrl */
  opening?: Promise<EmbeddedDatabase> | undefined;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 20);
  return openPglite(opts.dataDir ?? 'memory://', opts.onRestart, opts.opening);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  // loaded here: an embedded installation never needs the PostgreSQL driver
  const [{ default: pg }, { drizzle: drizzlePg }, { migrate: migratePg }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
    import('drizzle-orm/node-postgres/migrator'),
  ]);
  const pool = releaseOnFailedBegin(new pg.Pool({ connectionString: url, max }));
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

/**
 * drizzle's `transaction()` gives its connection back only once `BEGIN` succeeded: a `BEGIN` that
 * fails (the connection died just after it was taken, in a network cut or a database restart)
 * would keep it checked out for ever, and `pool.end()` at shutdown would wait for it for ever. A
 * connection taken with `await pool.connect()` whose first query, a `BEGIN`, fails is given back
 * here, broken, so the pool drops it.
 */
export function releaseOnFailedBegin<P extends import('pg').Pool>(pool: P): P {
  type Client = import('pg').PoolClient;
  // pool.query() checks out with a callback: those connections are left as they are
  const connect = pool.connect.bind(pool) as (callback?: unknown) => Promise<Client> | undefined;
  const guarded = (client: Client): Client => {
    const first = client.query;
    const watch = function (this: Client, ...args: unknown[]) {
      client.query = first;
      const result = (first as (...a: unknown[]) => unknown).apply(this, args);
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: unknown } | undefined)?.text;
      if (typeof text !== 'string' || !/^\s*begin\b/i.test(text) || !(result instanceof Promise))
        return result;
      return result.catch((err: unknown) => {
        client.release(err instanceof Error ? err : new Error(String(err)));
        throw err;
      });
    };
    client.query = watch as Client['query'];
    return client;
  };
  pool.connect = ((callback?: unknown) =>
    callback === undefined ? connect()!.then(guarded) : connect(callback)) as P['connect'];
  return pool;
}

async function openPglite(
  dataDir: string,
  onRestart: ((cause: Error) => void) | undefined,
  opening: Promise<EmbeddedDatabase> | undefined,
): Promise<Database> {
  const embedded = await (opening ?? openEmbedded(dataDir));
  if (embedded.dataDir !== dataDir) {
    await embedded.close();
    throw new Error(`the embedded database opened early is ${embedded.dataDir}, not ${dataDir}`);
  }
  if (onRestart) embedded.onRestart = onRestart;
  const client = embedded.thread;
  // drizzle's PGlite driver only calls query() and transaction(), which the thread provides
  const pglite = client as unknown as PGlite;
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  const query: RunQuery = async (sql) => (await client.query(sql)).rows as Record<string, unknown>[];
  return {
    db,
    driver: 'pglite',
    // one process per directory (openEmbedded's lock file): no advisory lock needed
    migrate: () => migrateChecked(query, () => migratePglite(drizzlePglite(pglite), { migrationsFolder })),
    schemaLevel: () => readSchemaLevel(query),
    query,
    ping: async () => {
      await client.query('select 1');
    },
    close: () => embedded.close(),
  };
}
