import { randomBytes } from 'node:crypto';
import { embeddedAgent } from '@maas/agent/embedded';
import { loadConfig, type RunningServer, startServer } from '@maas/server';
import { type ApiClient, createApiClient } from './api-client.ts';
import { createScratchDatabase, testDatabaseUrl, testRedisUrl } from './database.ts';

export const ADMIN_EMAIL = 'admin@localhost';
export const ADMIN_PASSWORD = 'admin-password-for-tests';
/**
 * Fake upstreams listen on loopback, so test servers allow it, as a platform admin would allow the
 * range of a self-hosted vLLM (`MAAS_OUTBOUND_ALLOW=10.0.0.0/8`). Pass `MAAS_OUTBOUND_ALLOW: ''` for none.
 */
export const TEST_OUTBOUND_ALLOW = '127.0.0.0/8,::1';

export interface TestServer {
  url: string;
  server: RunningServer;
  /** the scratch PostgreSQL database, when running on PostgreSQL */
  databaseUrl: string | undefined;
  /** an API client logged in as the bootstrap owner of org `default` */
  admin: ApiClient;
  client(token?: string): ApiClient;
  close(): Promise<void>;
}

/**
 * Starts a real `maas serve` in this process on port 0, on PGlite or a scratch PostgreSQL database,
 * with the node agent `maas serve` runs (on with `MAAS_LOCAL_AGENT=true`).
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const base = testDatabaseUrl();
  const scratch = base ? await createScratchDatabase(base) : undefined;
  const redis = testRedisUrl();
  const config = loadConfig({
    NODE_ENV: 'test',
    MAAS_HOST: '127.0.0.1',
    MAAS_PORT: '0',
    MAAS_DATA_DIR: 'memory://',
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
    MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MAAS_LOG_LEVEL: process.env.MAAS_TEST_LOG_LEVEL ?? 'silent',
    MAAS_SHUTDOWN_TIMEOUT_MS: '3000',
    MAAS_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    ...(redis ? { REDIS_URL: redis } : {}),
    ...env,
  });
  const server = await startServer(config, { announce: () => {}, embeddedAgent });
  const admin = createApiClient(server.url);
  await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
  return {
    url: server.url,
    server,
    databaseUrl: scratch?.url,
    admin,
    client: (token?: string) => createApiClient(server.url, token),
    async close() {
      await server.close();
      await scratch?.drop();
    },
  };
}
