/**
 * What `maas serve` loads before the server itself: the configuration, the errors it reports in
 * one line, and the embedded database, which it starts opening (lock, PGlite's WASM compiled and
 * the directory opened on its thread) while the rest of the server is imported. Only small
 * modules: the point is to start early.
 */
export { ConfigError, loadConfig } from './config.ts';
export { SchemaWaitTimeoutError } from './db/migrate.ts';
export { DataDirLockedError, type EmbeddedDatabase, openEmbedded } from './db/open-embedded.ts';
export { NewerSchemaError } from './db/schema-level.ts';
