import { randomBytes } from 'node:crypto';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { createMemoryBus } from './events/bus.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services.ts';

/**
 * The admin API's OpenAPI document, as `/openapi.json` serves it, built in this process on an
 * in-memory database without listening: the source of the generated client types.
 */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({
    NODE_ENV: 'test',
    MAAS_DATA_DIR: 'memory://',
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    MAAS_LOG_LEVEL: 'silent',
  });
  const log = createLogger(config.logLevel);
  const database = await openDatabase({ dataDir: config.dataDir });
  const bus = createMemoryBus();
  try {
    await database.migrate();
    const services = await createServices({ config, database, bus, log });
    try {
      const app = await buildApp({ services, logger: log });
      await app.ready();
      const document = app.swagger() as unknown as Record<string, unknown>;
      await app.close();
      return document;
    } finally {
      await services.stop();
    }
  } finally {
    await bus.close();
    await database.close();
  }
}
