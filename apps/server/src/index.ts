export { buildApp } from './app.ts';
export { type Config, ConfigError, loadConfig } from './config.ts';
export { DataDirLockedError } from './db/client.ts';
export { createLogger } from './logger.ts';
export { type RunningServer, startServer } from './server.ts';
