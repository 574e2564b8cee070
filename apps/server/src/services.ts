import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createSecretBox } from './crypto/secret-box.ts';
import type { Database } from './db/client.ts';
import type { Bus } from './events/bus.ts';
import { createAuditService } from './modules/audit/index.ts';
import { createIdentityService } from './modules/identity/index.ts';
import { createKeyService } from './modules/keys/index.ts';
import { createMetrics } from './modules/observability/metrics.ts';

export interface CoreDeps {
  config: Config;
  database: Database;
  bus: Bus;
  log: Logger;
}

/** Builds every service once, passing dependencies explicitly. */
export async function createServices(deps: CoreDeps) {
  const { config, database, bus, log } = deps;
  const db = database.db;
  const secrets = createSecretBox(config.secretKey);
  const metrics = createMetrics();
  const audit = createAuditService({ db });
  const identity = createIdentityService({ db, audit, bus, config, log });
  const keys = createKeyService({ db, audit, bus, log });
  await keys.start();
  return {
    config,
    database,
    bus,
    log,
    secrets,
    metrics,
    audit,
    identity,
    keys,
    /** Flushes buffers and stops background work; the database is closed by the caller. */
    async stop() {
      await keys.stop();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
