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
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './support/gateway-setup.ts';

/**
 * Two `maas serve` replicas on one PostgreSQL share the async queue: jobs submitted to one are run
 * by both, each exactly once (one upstream call per job), and each process reports what it ran.
 */
const databaseUrl = testDatabaseUrl();

// replicas share caches (keys, models) through Redis, as in production
describe.skipIf(!databaseUrl || !testRedisUrl())('jobs across replicas', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let upstream: FakeUpstream | undefined;
  const servers: SpawnedServer[] = [];
  const token = randomBytes(16).toString('hex');

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await upstream?.close();
    await scratch?.drop();
  });

  it('shares one queue, runs no job twice', async () => {
    scratch = await createScratchDatabase(databaseUrl!);
    upstream = await startFakeUpstream({ latencyMs: 150 });
    const redis = testRedisUrl();
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: scratch.url,
      REDIS_URL: redis!,
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: '0',
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
      MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MAAS_LOG_LEVEL: 'info',
      MAAS_METRICS_TOKEN: token,
      MAAS_ASYNC_CONCURRENCY: '3',
      MAAS_ASYNC_ORG_CONCURRENCY: '16',
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
      name: 'chat',
      type: 'chat',
      targets: [{ provider_id: provider.body.id, upstream_model: 'shared' }],
    });
    const project = (await admin.get('/api/v1/projects')).body.data[0].id;
    const key: string = (
      await admin.post('/api/v1/keys', { name: 'async', project_id: project, scopes: ['inference'] })
    ).body.key;
    const call = async (url: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1/async${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    // the second replica learns the key and the model (cache sync) before the burst
    await until(
      async () => (await call(servers[1]!.url, 'GET', '/jobs/job_01aaaaaaaaaaaaaaaaaaaaaaaa')).status === 404,
      10_000,
      'key known to replica 2',
    );

    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const res = await call(servers[0]!.url, 'POST', '/chat/completions', {
        model: 'chat',
        messages: [{ role: 'user', content: `n${i}` }],
      });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    for (const id of ids) {
      const done = await until(
        async () => {
          const row = (await call(servers[1]!.url, 'GET', `/jobs/${id}`)).body;
          return ['succeeded', 'failed'].includes(row.status) ? row : null;
        },
        30_000,
        `job ${id}`,
      );
      expect(done, JSON.stringify(done.error)).toMatchObject({ status: 'succeeded', attempts: 1 });
    }
    expect(upstream.requests.filter((r) => r.body?.model === 'shared')).toHaveLength(ids.length);
    const ran = await Promise.all(
      servers.map(async (s) => {
        const text = await (
          await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
        ).text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith('maas_jobs_attempts_total{queue="async.inference",outcome="succeeded"}'));
        return line ? Number(line.split(' ').pop()) : 0;
      }),
    );
    expect(ran[0]! + ran[1]!).toBe(ids.length);
    expect(ran[0]).toBeGreaterThan(0);
    expect(ran[1]).toBeGreaterThan(0);
  }, 120_000);
});
