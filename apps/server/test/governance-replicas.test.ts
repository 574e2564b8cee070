import { randomBytes } from 'node:crypto';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createApiClient,
  createScratchDatabase,
  type FakeUpstream,
  type SpawnedServer,
  spawnServer,
  startFakeUpstream,
  testDatabaseUrl,
  testRedisUrl,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The limit is the limit however many replicas serve it: two `maas serve` processes on one
 * PostgreSQL and one Redis, 100 RPM on one key, 300 concurrent requests spread over both → exactly
 * 100 admitted, and exactly one usage event per request.
 */
const databaseUrl = testDatabaseUrl();
const redisUrl = testRedisUrl();

describe.skipIf(!databaseUrl || !redisUrl)('limits across replicas', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let upstream: FakeUpstream;
  const servers: SpawnedServer[] = [];
  let key: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase(databaseUrl!);
    upstream = await startFakeUpstream({ chunks: 2, record: false });
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: scratch.url,
      REDIS_URL: redisUrl!,
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: '0',
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
      MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MAAS_LOG_LEVEL: 'info',
    };
    servers.push(await spawnServer(env));
    servers.push(await spawnServer(env));
    const admin = createApiClient(servers[0]!.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const provider = await admin.post('/api/v1/providers', {
      name: 'fake',
      type: 'openai-compatible',
      base_url: upstream.url,
    });
    await admin.post('/api/v1/models', {
      name: 'limited',
      type: 'chat',
      targets: [{ provider_id: provider.body.id, upstream_model: 'm' }],
    });
    const project = (await admin.get('/api/v1/projects')).body.data[0].id;
    const created = await admin.post('/api/v1/keys', {
      name: 'replicated',
      project_id: project,
      scopes: ['inference'],
    });
    key = created.body.key;
    expect(
      (await admin.post('/api/v1/limits', { scope: 'key', scope_id: created.body.id, rpm: 100 })).status,
    ).toBe(201);
    // both replicas know the model and the limit before the burst
    for (const s of servers) {
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
        if (res.ok && JSON.stringify(await res.json()).includes('limited')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await upstream?.close();
    await scratch?.drop();
  });

  it('admits exactly 100 of 300 concurrent requests at 100 RPM', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        fetch(`${servers[i % 2]!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'limited',
            max_tokens: 4,
            messages: [{ role: 'user', content: `n${i}` }],
          }),
        }).then(async (res) => {
          await res.arrayBuffer();
          return res.status;
        }),
      ),
    );
    const admitted = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    expect({ admitted, limited }).toEqual({ admitted: 100, limited: 200 });
  }, 120_000);
});
