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
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './support/gateway-setup.ts';

/**
 * Two `maas serve` replicas on one PostgreSQL: a conversation started on replica 1 with a model
 * of provider A goes on from replica 2 with a model of provider B by previous_response_id, and
 * provider B is sent the whole conversation; a background response queued on one replica is read
 * and chained from the other. (On PGlite, responses-chaining.test.ts covers one server.)
 */
const databaseUrl = testDatabaseUrl();

// replicas share caches (keys, models) through Redis, as in production
describe.skipIf(!databaseUrl || !testRedisUrl())('responses across replicas', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  const upstreams: FakeUpstream[] = [];
  const servers: SpawnedServer[] = [];

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(upstreams.map((u) => u.close()));
    await scratch?.drop();
  });

  it('chains previous_response_id across replicas and providers', async () => {
    scratch = await createScratchDatabase(databaseUrl!);
    const a = await startFakeUpstream({ chunks: 3 });
    const b = await startFakeUpstream({ chunks: 3 });
    upstreams.push(a, b);
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: scratch.url,
      REDIS_URL: testRedisUrl()!,
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: '0',
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
      MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MAAS_LOG_LEVEL: 'info',
      MAAS_PROBE_INTERVAL_MS: '0',
    };
    servers.push(await spawnServer(env));
    servers.push(await spawnServer(env));
    const admin = createApiClient(servers[0]!.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    for (const [name, upstream] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const provider = await admin.post('/api/v1/providers', {
        name: `provider-${name}`,
        type: 'openai-compatible',
        base_url: upstream.url,
      });
      await admin.post('/api/v1/models', {
        name: `model-${name}`,
        type: 'chat',
        targets: [{ provider_id: provider.body.id, upstream_model: `upstream-${name}` }],
      });
    }
    const project = (await admin.get('/api/v1/projects')).body.data[0].id;
    const key: string = (
      await admin.post('/api/v1/keys', { name: 'responses', project_id: project, scopes: ['inference'] })
    ).body.key;
    const [one, two] = servers.map(
      (s) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: key, maxRetries: 0, timeout: 20_000 }),
    ) as [OpenAI, OpenAI];
    // the second replica learns the key and both models (cache sync)
    await until(
      async () => {
        const models = await two.models.list().catch(() => null);
        return models?.data.some((m) => m.id === 'model-b') ?? false;
      },
      15_000,
      'key and models known to replica 2',
    );

    const first = await one.responses.create({ model: 'model-a', input: 'alpha beta gamma' });
    expect(first.output_text).toBe('alpha beta gamma');
    const second = await two.responses.create({
      model: 'model-b',
      previous_response_id: first.id,
      input: 'delta epsilon',
    });
    expect(second.output_text).toBe('delta epsilon delta');
    const sentToB = b.requests.filter((r) => r.path === '/v1/chat/completions');
    expect(sentToB).toHaveLength(1);
    expect(sentToB[0]!.body.messages).toEqual([
      { role: 'user', content: 'alpha beta gamma' },
      { role: 'assistant', content: 'alpha beta gamma' },
      { role: 'user', content: 'delta epsilon' },
    ]);
    // each replica reads what the other stored
    expect((await one.responses.retrieve(second.id)).previous_response_id).toBe(first.id);

    // a streamed third turn back on replica 1 and provider A
    const third = await one.responses
      .stream({ model: 'model-a', previous_response_id: second.id, input: 'zeta' })
      .finalResponse();
    expect(third.status).toBe('completed');
    expect(a.requests.filter((r) => r.path === '/v1/chat/completions')[1]!.body.messages).toHaveLength(5);

    // background: queued on replica 2, run by either, read and chained on replica 1
    const queued = await two.responses.create({
      model: 'model-b',
      previous_response_id: third.id,
      input: 'eta',
      background: true,
    });
    const done = await until(
      async () => {
        const r = await one.responses.retrieve(queued.id);
        return r.status === 'completed' ? r : null;
      },
      30_000,
      'background response completed',
    );
    expect(done.output_text).toBe('eta eta eta');
    const items = await one.responses.inputItems.list(done.id, { order: 'asc', limit: 100 });
    expect(items.data).toHaveLength(7);
  }, 120_000);
});
