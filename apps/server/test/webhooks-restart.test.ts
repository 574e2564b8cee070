import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createApiClient,
  createScratchDatabase,
  respawnServer,
  type SpawnedServer,
  spawnServer,
  testDatabaseUrl,
} from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './support/gateway-setup.ts';

/**
 * A delivery waiting for its retry survives kill -9 of its server: the restarted process sends the
 * same signed message (same webhook-id and body) when the retry is due, and the log shows it.
 */
const base = testDatabaseUrl();

describe('a webhook retry survives kill -9', () => {
  let server: SpawnedServer | undefined;
  let receiver: Server | undefined;
  let dataDir: string | undefined;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  afterAll(async () => {
    await server?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
    await scratch?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends the retry after a restart', async () => {
    const hits: { headers: IncomingHttpHeaders; body: string }[] = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hits.push({ headers: req.headers, body });
        res.writeHead(hits.length === 1 ? 503 : 200).end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    scratch = base ? await createScratchDatabase(base) : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'maas-webhooks-'));
    const env = {
      NODE_ENV: 'test',
      MAAS_DATA_DIR: dataDir,
      ...(scratch ? { DATABASE_URL: scratch.url } : { DATABASE_URL: '' }),
      REDIS_URL: '',
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: '0',
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
      MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MAAS_LOG_LEVEL: 'info',
      MAAS_JOB_LEASE_MS: '1500',
      MAAS_WEBHOOK_RETRY_SCHEDULE: '3s',
    };
    server = await spawnServer(env);
    let admin = createApiClient(server.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const endpoint = await admin.post('/api/v1/webhook-endpoints', { url });
    expect(endpoint.status).toBe(201);
    const sent = await admin.post(`/api/v1/webhook-endpoints/${endpoint.body.id}/test`);
    const delivery = `/api/v1/webhook-deliveries/${sent.body.id}`;
    await until(async () => {
      const d = (await admin.get(delivery)).body;
      return d.attempts === 1 && d.status === 'pending' ? d : undefined;
    }, 10_000);

    server.child.kill('SIGKILL');
    await until(() => server!.child.exitCode !== null || server!.child.signalCode !== null, 5_000, 'exit');
    server = await respawnServer(env, { everyMs: 500 });
    admin = createApiClient(server.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const done = await until(
      async () => {
        const d = (await admin.get(delivery)).body;
        return d.status === 'succeeded' ? d : undefined;
      },
      20_000,
      'the retry after the restart',
    );
    expect(done).toMatchObject({ attempts: 2, response_status: 200, last_error: null });
    expect(hits).toHaveLength(2);
    expect(hits[1]!.headers['webhook-id']).toBe(hits[0]!.headers['webhook-id']);
    expect(hits[1]!.body).toBe(hits[0]!.body);
    const sdk = new OpenAI({ apiKey: 'x', webhookSecret: endpoint.body.secret });
    await expect(
      sdk.webhooks.unwrap(hits[1]!.body, hits[1]!.headers as Record<string, string>),
    ).resolves.toMatchObject({ type: 'webhook.test' });
  }, 120_000);
});
