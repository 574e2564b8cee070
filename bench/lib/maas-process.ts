import { randomBytes } from 'node:crypto';
import { embeddedAgent } from '../../apps/agent/src/embedded.ts';
import { loadConfig, startServer } from '../../apps/server/src/index.ts';

/**
 * Child process: `maas serve` on its own event loop, on in-memory PGlite, port 0; sends `{ url }`
 * over IPC. Settings come from MAAS_* variables only (a variant such as governance on/off passes
 * its own); MAAS_BENCH_DATABASE_URL / MAAS_BENCH_REDIS_URL run it on PostgreSQL / Redis instead.
 */
const env = process.env;
const ownSettings = Object.fromEntries(
  Object.entries(env).filter(([name]) => name.startsWith('MAAS_') && !name.startsWith('MAAS_BENCH_')),
);
const config = loadConfig({
  NODE_ENV: 'production',
  MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
  MAAS_LOG_LEVEL: 'warn',
  // the bench's fake upstreams listen on loopback, allowed as a self-hosted upstream's range would be
  MAAS_OUTBOUND_ALLOW: '127.0.0.0/8',
  ...ownSettings,
  MAAS_HOST: '127.0.0.1',
  MAAS_PORT: '0',
  MAAS_DATA_DIR: 'memory://',
  ...(env.MAAS_BENCH_DATABASE_URL ? { DATABASE_URL: env.MAAS_BENCH_DATABASE_URL } : {}),
  ...(env.MAAS_BENCH_REDIS_URL ? { REDIS_URL: env.MAAS_BENCH_REDIS_URL } : {}),
});
const server = await startServer(config, { announce: () => {}, embeddedAgent });
process.send?.({ url: server.url });
process.on('disconnect', () => {
  void server.close().then(() => process.exit(0));
});
