import { resolve } from 'node:path';

/**
 * What a backup is taken from and restored to, read from the server's environment. Not through
 * loadConfig: that would generate a fresh secret key in an empty data directory, which a restore
 * is about to fill.
 */
export interface BackupTarget {
  dataDir: string;
  databaseUrl: string | undefined;
  /** MAAS_SECRET_KEY, when the key comes from the environment (hex) */
  envSecretKey: string | undefined;
  /** files live in an S3 bucket (not copied by backups) */
  s3Bucket: string | undefined;
}

export function backupTargetFromEnv(env: NodeJS.ProcessEnv): BackupTarget {
  const dataDir = env.MAAS_DATA_DIR || './.maas';
  if (dataDir.startsWith('memory://'))
    throw new Error('an in-memory data directory (memory://) has nothing to back up');
  return {
    dataDir: resolve(dataDir),
    databaseUrl: env.DATABASE_URL || undefined,
    envSecretKey: env.MAAS_SECRET_KEY || undefined,
    s3Bucket: env.MAAS_FILES_S3_BUCKET || undefined,
  };
}

/** `<data dir>/files`: the local disk store (modules/files/storage/local-disk.ts) */
export const filesDirOf = (dataDir: string) => resolve(dataDir, 'files');
/** `<data dir>/secret.key`: the embedded secret key (config.ts) */
export const secretKeyFileOf = (dataDir: string) => resolve(dataDir, 'secret.key');
/** `<data dir>/pgdata`: the embedded database (db/client.ts) */
export const pgdataDirOf = (dataDir: string) => resolve(dataDir, 'pgdata');
