export { buildApp } from './app.ts';
export { BackupRefusedError, backupTargetFromEnv, createBackup, restoreBackup } from './backup/index.ts';
export { type Config, ConfigError, loadConfig } from './config.ts';
export { DataDirLockedError, openDatabase } from './db/client.ts';
export {
  isUnreachable,
  MIGRATION_LOCK_KEY,
  type MigrationResult,
  SchemaWaitTimeoutError,
} from './db/migrate.ts';
export { NewerSchemaError, readKnownMigrations, type SchemaLevel } from './db/schema-level.ts';
export { createLogger } from './logger.ts';
export { type RunningServer, startServer } from './server.ts';
