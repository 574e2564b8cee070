import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { DataDirLockedError, openDatabase } from '../db/client.ts';
import { readKnownMigrations } from '../db/schema-level.ts';
import { ensurePrivateDir, tightenTree } from '../private-dir.ts';
import { readArchive } from './archive.ts';
import { listEntries, MANIFEST_NAME, type Manifest, manifestSchema } from './manifest.ts';
import { runPgTool } from './pg-tools.ts';
import { countRows, diffCounts } from './row-counts.ts';
import { type BackupTarget, filesDirOf, pgdataDirOf, secretKeyFileOf } from './target.ts';

/** The backup cannot be restored here; nothing was changed. */
export class BackupRefusedError extends Error {}

export interface RestoreOptions {
  /** replace a database, files and key that are already there */
  force?: boolean;
  /** restore into a scratch location, compare row counts, change nothing */
  verify?: boolean;
}

export interface RestoreResult {
  manifest: Manifest;
  /** tables whose row counts were compared (all matched) and files restored or found */
  tables: number;
  files: number;
  notes: string[];
}

/**
 * Restores a `createBackup` archive into the target (or, with `verify`, into a scratch location).
 * Refuses before changing anything: a damaged archive (checksums), a backup from a newer maas (a
 * migration this build does not know), another driver, a secret key that differs from
 * MAAS_SECRET_KEY, a running embedded server, or existing data without `force`. After restoring,
 * the row counts of every table are compared with the manifest's.
 */
export async function restoreBackup(
  target: BackupTarget,
  file: string,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  const staging = await mkdtemp(join(tmpdir(), 'maas-restore-'));
  try {
    ensurePrivateDir(staging);
    const manifest = await unpackChecked(file, staging);
    const driver = target.databaseUrl ? 'postgres' : 'pglite';
    if (manifest.driver !== driver)
      throw new BackupRefusedError(
        `the backup holds a ${manifest.driver} database and the target is ${driver} (${driver === 'postgres' ? 'DATABASE_URL is set' : 'DATABASE_URL is unset'}): restore it with the same kind of database`,
      );
    const notes: string[] = [];
    if (manifest.files.note) notes.push(manifest.files.note);
    const files = (await readdir(join(staging, 'files')).catch(() => [])).length;
    if (opts.verify) {
      const counts = await countScratch(manifest, target, join(staging, 'database'));
      checkCounts(manifest, counts, 'the scratch restore');
      if (files !== manifest.files.count)
        throw new BackupRefusedError(`the backup lists ${manifest.files.count} files but holds ${files}`);
      return { manifest, tables: Object.keys(counts).length, files, notes };
    }
    const secretHex = (await readFile(join(staging, 'secret.key'), 'utf8')).trim();
    await checkSecretKey(target, secretHex, Boolean(opts.force));
    if (manifest.files.store === 'local' && target.s3Bucket)
      notes.push(
        `the backup's ${files} files were written to ${filesDirOf(target.dataDir)}, not to the S3 bucket`,
      );
    if (driver === 'pglite')
      await restoreEmbedded(target.dataDir, join(staging, 'database', 'pgdata'), Boolean(opts.force));
    else
      await restorePostgres(
        target.databaseUrl!,
        join(staging, 'database', 'postgres.dump'),
        Boolean(opts.force),
      );
    if (manifest.files.store === 'local') {
      ensurePrivateDir(filesDirOf(target.dataDir));
      await cp(join(staging, 'files'), filesDirOf(target.dataDir), { recursive: true });
      tightenTree(filesDirOf(target.dataDir));
    }
    if (!target.envSecretKey) {
      ensurePrivateDir(target.dataDir);
      await writeFile(secretKeyFileOf(target.dataDir), `${secretHex}\n`, { mode: 0o600 });
    }
    const database = await openDatabase({
      databaseUrl: target.databaseUrl,
      dataDir: target.dataDir,
      poolSize: 2,
    });
    try {
      const counts = await countRows(database.query);
      checkCounts(manifest, counts, 'the restored database');
      return { manifest, tables: Object.keys(counts).length, files, notes };
    } finally {
      await database.close();
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Unpacks the archive and checks it: manifest, every checksum, nothing extra, no newer schema. */
async function unpackChecked(file: string, dir: string): Promise<Manifest> {
  try {
    await readArchive(file, dir);
  } catch (err) {
    throw new BackupRefusedError(`${file} is not a readable maas backup: ${(err as Error).message}`);
  }
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(await readFile(join(dir, MANIFEST_NAME), 'utf8')));
  } catch (err) {
    throw new BackupRefusedError(
      `${file} has no valid ${MANIFEST_NAME}: ${(err as Error).message.slice(0, 300)}`,
    );
  }
  const found = new Map((await listEntries(dir)).map((e) => [e.path, e]));
  for (const want of manifest.entries) {
    const got = found.get(want.path);
    if (!got) throw new BackupRefusedError(`the backup is damaged: ${want.path} is missing`);
    if (got.sha256 !== want.sha256 || got.bytes !== want.bytes)
      throw new BackupRefusedError(`the backup is damaged: ${want.path} does not match its checksum`);
    found.delete(want.path);
  }
  if (found.size > 0)
    throw new BackupRefusedError(
      `the backup holds files its manifest does not list: ${[...found.keys()].slice(0, 5).join(', ')}`,
    );
  const known = new Set(readKnownMigrations().map((m) => m.when));
  const unknown = manifest.migrations.applied.filter((when) => !known.has(when));
  if (unknown.length > 0)
    throw new BackupRefusedError(
      `the backup was taken by a newer maas: its database has ${unknown.length} migration(s) this build does not know (schema at ${manifest.migrations.level}); restore it with that version or newer`,
    );
  return manifest;
}

function checkCounts(manifest: Manifest, counts: Record<string, number>, where: string): void {
  const diff = diffCounts(manifest.rowCounts, counts);
  if (diff.length > 0)
    throw new Error(`${where} does not match the backup's row counts: ${diff.slice(0, 10).join('; ')}`);
}

async function checkSecretKey(target: BackupTarget, backupHex: string, force: boolean): Promise<void> {
  if (target.envSecretKey) {
    if (target.envSecretKey.toLowerCase() !== backupHex.toLowerCase())
      throw new BackupRefusedError(
        'MAAS_SECRET_KEY differs from the key in the backup: the restored provider credentials and webhook secrets could not be decrypted. ' +
          "Set MAAS_SECRET_KEY to the backup's key (tar -xzOf BACKUP secret.key) and run the restore again",
      );
    return;
  }
  const existing = await readFile(secretKeyFileOf(target.dataDir), 'utf8').catch(() => null);
  if (existing !== null && existing.trim() !== backupHex && !force)
    throw new BackupRefusedError(
      `${secretKeyFileOf(target.dataDir)} holds another key: pass --force to replace it`,
    );
}

async function restoreEmbedded(dataDir: string, from: string, force: boolean): Promise<void> {
  const pgdata = pgdataDirOf(dataDir);
  ensurePrivateDir(pgdata);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(pgdata, { stale: 15_000, update: 5_000, realpath: false });
  } catch {
    throw new DataDirLockedError(
      `data directory ${dataDir} is in use by a running maas: stop it before restoring`,
    );
  }
  try {
    if ((await readdir(pgdata)).length > 0 && !force)
      throw new BackupRefusedError(`${pgdata} already holds a database: pass --force to replace it`);
    for (const name of await readdir(pgdata)) await rm(join(pgdata, name), { recursive: true, force: true });
    await cp(from, pgdata, { recursive: true });
    tightenTree(pgdata);
  } finally {
    await release();
  }
}

/** The PostgreSQL driver, loaded when a restore needs it (never by the server that shares this module). */
async function pgClient(url: string) {
  const { default: pg } = await import('pg');
  return new pg.Client({ connectionString: url });
}

async function restorePostgres(url: string, dump: string, force: boolean): Promise<void> {
  const client = await pgClient(url);
  await client.connect();
  try {
    const [{ n }] = (
      await client.query(
        `select count(*)::int as n from pg_class c join pg_namespace s on s.oid = c.relnamespace
         where s.nspname in ('public', 'drizzle') and c.relkind in ('r', 'p')`,
      )
    ).rows;
    if (n > 0 && !force)
      throw new BackupRefusedError(
        'the database already holds tables: pass --force to replace them (stop every maas replica first)',
      );
    if (n > 0)
      await client.query(
        'drop schema if exists drizzle cascade; drop schema public cascade; create schema public',
      );
  } finally {
    await client.end();
  }
  await runPgTool('pg_restore', url, [
    '--no-owner',
    '--no-acl',
    '--exit-on-error',
    '--single-transaction',
    dump,
  ]);
}

/** Restores the database part into a scratch location and counts its rows; the scratch goes afterwards. */
async function countScratch(
  manifest: Manifest,
  target: BackupTarget,
  dir: string,
): Promise<Record<string, number>> {
  if (manifest.driver === 'pglite') {
    const database = await openDatabase({ dataDir: dir });
    try {
      return await countRows(database.query);
    } finally {
      await database.close();
    }
  }
  const scratch = `maas_verify_${randomBytes(6).toString('hex')}`;
  const admin = await pgClient(target.databaseUrl!);
  await admin.connect();
  try {
    await admin.query(`create database ${scratch}`);
    const url = new URL(target.databaseUrl!);
    url.pathname = `/${scratch}`;
    await runPgTool('pg_restore', url.toString(), [
      '--no-owner',
      '--no-acl',
      '--exit-on-error',
      join(dir, 'postgres.dump'),
    ]);
    const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 1 });
    try {
      return await countRows(database.query);
    } finally {
      await database.close();
    }
  } finally {
    await admin.query(`drop database if exists ${scratch} with (force)`).catch(() => {});
    await admin.end();
  }
}
