import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createApiClient, type SpawnedServer, spawnServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/gateway-setup.ts';

/**
 * A real `maas serve` at debug level: creating, testing, rotating and retrying webhooks must leave
 * no signing secret (nor its base64 body) in any log line, even when a receiver echoes it back.
 */
let server: SpawnedServer;
let receiver: Server;
let base: string;
let echo = '';
let hits = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(hits === 1 ? 500 : 200).end(`echo ${echo}`));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  server = await spawnServer({
    NODE_ENV: 'test',
    MAAS_HOST: '127.0.0.1',
    MAAS_PORT: '0',
    MAAS_DATA_DIR: 'memory://',
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
    MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MAAS_LOG_LEVEL: 'debug',
    MAAS_WEBHOOK_RETRY_SCHEDULE: '100ms',
    DATABASE_URL: '',
    REDIS_URL: '',
  });
}, 90_000);
afterAll(async () => {
  await server?.stop();
  receiver?.closeAllConnections();
  receiver?.close();
});

describe('webhook secrets and logs', () => {
  it('never writes a signing secret to the log', async () => {
    const admin = createApiClient(server.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const created = await admin.post('/api/v1/webhook-endpoints', { url: `${base}/hook` });
    expect(created.status).toBe(201);
    echo = created.body.secret;
    const test = await admin.post(`/api/v1/webhook-endpoints/${created.body.id}/test`);
    await until(async () => {
      const d = await admin.get(`/api/v1/webhook-deliveries/${test.body.id}`);
      return d.body.status === 'succeeded' ? d : undefined;
    }, 10_000);
    const rotated = await admin.post(`/api/v1/webhook-endpoints/${created.body.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    const again = await admin.post(`/api/v1/webhook-endpoints/${created.body.id}/test`);
    await until(async () => {
      const d = await admin.get(`/api/v1/webhook-deliveries/${again.body.id}`);
      return d.body.status === 'succeeded' ? d : undefined;
    }, 10_000);
    expect(hits).toBe(3);
    const log = server.output.join('\n');
    expect(log).toContain('webhook attempt');
    for (const secret of [created.body.secret, rotated.body.secret] as string[]) {
      expect(log).not.toContain(secret.slice(6, 30));
    }
    expect(log).not.toContain('whsec_');
  });
});
