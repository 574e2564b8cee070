export { type BackupResult, createBackup } from './create-backup.ts';
export { type Manifest, manifestSchema } from './manifest.ts';
export {
  BackupRefusedError,
  type RestoreOptions,
  type RestoreResult,
  restoreBackup,
} from './restore-backup.ts';
export { type BackupTarget, backupTargetFromEnv } from './target.ts';
