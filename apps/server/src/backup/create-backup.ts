import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { DataDirLockedError, openDatabase } from '../db/client.ts';
import { type RunQuery, readSchemaLevel } from '../db/schema-level.ts';
import { ensurePrivateDir, tightenTree } from '../private-dir.ts';
import { writeArchive } from './archive.ts';
import { listEntries, MANIFEST_NAME, type Manifest } from './manifest.ts';
import { pgToolVersion, runPgTool } from './pg-tools.ts';
import { countRows } from './row-counts.ts';
import { type BackupTarget, filesDirOf, pgdataDirOf, secretKeyFileOf } from './target.ts';

export interface BackupResult {
  file: string;
  manifest: Manifest;
}

type DatabasePart = Pick<Manifest, 'driver' | 'migrations' | 'rowCounts'> & {
  versions: Record<string, string>;
};

/**
 * Writes one tar.gz (mode 0600: it holds the secret key) with `manifest.json`, the database
 * (`database/postgres.dump` from pg_dump, or `database/pgdata/` for the embedded database), the
 * local file store (`files/`) and `secret.key`. PostgreSQL is dumped live from one snapshot, and
 * the manifest's row counts come from that same snapshot. The embedded database must not be open
 * elsewhere: the backup takes its lock, so a running `maas serve` is refused (DataDirLockedError).
 */
export async function createBackup(target: BackupTarget, out: string): Promise<BackupResult> {
  const secretHex = await readSecretKey(target);
  const staging = await mkdtemp(join(tmpdir(), 'maas-backup-'));
  try {
    ensurePrivateDir(staging);
    const db = target.databaseUrl
      ? await dumpPostgres(target.databaseUrl, join(staging, 'database'))
      : await copyEmbedded(target.dataDir, join(staging, 'database'));
    // files after the database: every file the dump refers to was stored before it was taken
    const fileCount = target.s3Bucket
      ? 0
      : await copyLocalFiles(filesDirOf(target.dataDir), join(staging, 'files'));
    await writeFile(join(staging, 'secret.key'), `${secretHex}\n`, { mode: 0o600 });
    const manifest: Manifest = {
      format: 'maas-backup',
      formatVersion: 1,
      createdAt: new Date().toISOString(),
      versions: { maas: process.env.MAAS_VERSION ?? 'dev', node: process.version, database: db.versions },
      driver: db.driver,
      migrations: db.migrations,
      rowCounts: db.rowCounts,
      files: target.s3Bucket
        ? {
            store: 's3',
            count: 0,
            note: `objects in bucket ${target.s3Bucket} are not copied: back the bucket up on the storage side (versioning or replication)`,
          }
        : { store: 'local', count: fileCount },
      secretKey: { source: target.envSecretKey ? 'env' : 'file' },
      entries: await listEntries(staging),
    };
    await writeFile(join(staging, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await writeArchive(staging, out);
    return { file: out, manifest };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function readSecretKey(target: BackupTarget): Promise<string> {
  if (target.envSecretKey) return target.envSecretKey.toLowerCase();
  try {
    return (await readFile(secretKeyFileOf(target.dataDir), 'utf8')).trim();
  } catch {
    throw new Error(
      `no secret key: MAAS_SECRET_KEY is unset and ${secretKeyFileOf(target.dataDir)} does not exist (is ${target.dataDir} a maas data directory?)`,
    );
  }
}

async function dumpPostgres(url: string, dir: string): Promise<DatabasePart> {
  await mkdir(dir, { mode: 0o700 });
  const { default: pg } = await import('pg'); // only backups of PostgreSQL need the driver
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // one snapshot for the dump, the migration level and the row counts
    await client.query('begin isolation level repeatable read read only');
    const [{ snapshot }] = (await client.query('select pg_export_snapshot() as snapshot')).rows;
    const query: RunQuery = async (sql) => (await client.query(sql)).rows;
    const level = await readSchemaLevel(query);
    const rowCounts = await countRows(query);
    const [{ server_version }] = (await client.query('show server_version')).rows;
    await runPgTool('pg_dump', url, [
      '--format=custom',
      '--no-owner',
      '--no-acl',
      `--snapshot=${snapshot}`,
      `--file=${join(dir, 'postgres.dump')}`,
    ]);
    await client.query('commit');
    return {
      driver: 'postgres',
      migrations: { level: level.level, applied: level.applied.map((m) => m.createdAt) },
      rowCounts,
      versions: { postgres: String(server_version), pg_dump: await pgToolVersion('pg_dump') },
    };
  } finally {
    await client.end();
  }
}

async function copyEmbedded(dataDir: string, dir: string): Promise<DatabasePart> {
  // opening takes the directory's lock: a running server makes this fail with DataDirLockedError
  const database = await openDatabase({ dataDir });
  let part: DatabasePart;
  try {
    const level = await database.schemaLevel();
    part = {
      driver: 'pglite',
      migrations: { level: level.level, applied: level.applied.map((m) => m.createdAt) },
      rowCounts: await countRows(database.query),
      versions: { pglite: pgliteVersion() },
    };
  } finally {
    await database.close();
  }
  // the database is closed (checkpointed); hold its lock while its files are copied
  const pgdata = pgdataDirOf(dataDir);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(pgdata, { stale: 15_000, update: 5_000, realpath: false });
  } catch {
    throw new DataDirLockedError(`data directory ${dataDir} was opened by another process during the backup`);
  }
  try {
    await mkdir(dir, { mode: 0o700 });
    await cp(pgdata, join(dir, 'pgdata'), { recursive: true });
    tightenTree(dir);
  } finally {
    await release();
  }
  return part;
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  try {
    return String((require('@electric-sql/pglite/package.json') as { version: string }).version);
  } catch {
    return 'unknown';
  }
}

async function copyLocalFiles(from: string, to: string): Promise<number> {
  await mkdir(to, { mode: 0o700 });
  let names: string[];
  try {
    names = await readdir(from);
  } catch {
    return 0; // no file was ever stored
  }
  let count = 0;
  for (const name of names) {
    if (name.includes('.partial-')) continue; // an upload still being written
    try {
      await copyFile(join(from, name), join(to, name));
      count += 1;
    } catch (err) {
      // deleted since the dump: the dump's row will point at nothing, as it would have a moment later
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  tightenTree(to);
  return count;
}
