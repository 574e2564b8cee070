import { randomBytes } from 'node:crypto';
import { loadConfig, type RunningServer, startServer } from '@maas/server';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  createApiClient,
  createScratchDatabase,
  testDatabaseUrl,
  testRedisUrl,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitRequest, type LimitSubject, settleRequest } from '../src/modules/limits/index.ts';

/**
 * Two replicas (two servers in this process, each with its own database pool, bus and Redis
 * connections) on one PostgreSQL and one Redis: a policy changed through one applies on the other
 * within a second, and both count against one limit. The same through two `maas serve` processes
 * and the /v1 gateway waits for the gateway to call admitRequest.
 */
const databaseUrl = testDatabaseUrl();
const redisUrl = testRedisUrl();

describe.skipIf(!databaseUrl || !redisUrl)('limits across replicas', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  const servers: RunningServer[] = [];
  let api: ApiClient;
  let subject: LimitSubject;

  beforeAll(async () => {
    scratch = await createScratchDatabase(databaseUrl!);
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: scratch.url,
      REDIS_URL: redisUrl!,
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: '0',
      MAAS_DATA_DIR: 'memory://',
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
      MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MAAS_LOG_LEVEL: 'silent',
    };
    // One after the other: the first migrates and bootstraps, the second finds it done.
    servers.push(await startServer(loadConfig(env), { announce: () => {} }));
    servers.push(await startServer(loadConfig(env), { announce: () => {} }));
    api = createApiClient(servers[0]!.url);
    await api.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const orgId = (await api.get('/api/v1/me')).body.org.id;
    const projectId = (await api.post('/api/v1/projects', { name: 'replicated' })).body.id;
    const keyId = (await api.post('/api/v1/keys', { name: 'replicated', project_id: projectId })).body.id;
    subject = { orgId, projectId, keyId, model: 'm1' };
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await scratch?.drop();
  });

  const within = async (timeoutMs: number, check: () => boolean) => {
    const started = performance.now();
    while (!check()) {
      if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('admits exactly 100 of 300 concurrent requests at 100 RPM on one key across two replicas', async () => {
    const [a, b] = servers.map((s) => s.services.limits);
    const created = await api.post('/api/v1/limits', { scope: 'key', scope_id: subject.keyId, rpm: 100 });
    expect(created.status).toBe(201);
    await within(1_000, () => b!.resolvePolicies(subject).length === 1);

    const results = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => admitRequest(i % 2 ? b! : a!, subject, { tokens: 20 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
    for (const r of results) {
      if (r.status === 'rejected')
        expect(r.reason).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    }

    expect((await api.delete(`/api/v1/limits/${created.body.id}`)).status).toBe(204);
    await within(1_000, () => b!.resolvePolicies(subject).length === 0);
    expect((await admitRequest(b!, subject, { tokens: 20 })).headers).toEqual({});
  });

  it('never overshoots a large limit admitted from local shares, and the counters end exact', async () => {
    const [a, b] = servers.map((s) => s.services.limits);
    const created = await api.post('/api/v1/limits', {
      scope: 'key',
      scope_id: subject.keyId,
      model: 'm1',
      rpm: 10_000,
      max_concurrent: 50_000,
    });
    expect(created.status).toBe(201);
    await within(1_000, () => b!.resolvePolicies(subject).some((p) => p.id === created.body.id));
    const replicaOf = (i: number) => (i % 2 ? b! : a!);
    const results = await Promise.allSettled(
      Array.from({ length: 12_000 }, (_, i) => admitRequest(replicaOf(i), subject, { tokens: 20 })),
    );
    const admitted = results.filter((r) => r.status === 'fulfilled');
    // Never more than the limit. Fewer only by what a share held when its sub-bucket ended while
    // its requests were still in flight (a few shares of at most 33 requests each).
    expect(admitted.length).toBeLessThanOrEqual(10_000);
    expect(admitted.length).toBeGreaterThan(10_000 - 400);
    await Promise.all(
      results.map((r, i) =>
        r.status === 'fulfilled'
          ? settleRequest(replicaOf(i), r.value.reservation, { tokens: 20, cost: 0 })
          : undefined,
      ),
    );
    await Promise.all([a!.engine.flush(), b!.engine.flush()]);
    // what the shares did not use went back: the counters hold exactly what was admitted
    const usage = await api.get(`/api/v1/limits/${created.body.id}/usage`);
    expect(usage.body.counters).toEqual([
      expect.objectContaining({ dimension: 'rpm', used: admitted.length }),
      expect.objectContaining({ dimension: 'concurrency', used: 0 }),
    ]);
    expect((await api.delete(`/api/v1/limits/${created.body.id}`)).status).toBe(204);
  });

  it('holds a budget across replicas: concurrent requests never overshoot it', async () => {
    const [a, b] = servers.map((s) => s.services.limits);
    const created = await api.post('/api/v1/limits', {
      scope: 'project',
      scope_id: subject.projectId,
      model: 'm1',
      budget: 2,
      budget_period: 'month',
    });
    expect(created.status).toBe(201);
    await within(1_000, () => b!.resolvePolicies(subject).some((p) => p.id === created.body.id));
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        admitRequest(i % 2 ? b! : a!, subject, { tokens: 20, cost: 0.05 }),
      ),
    );
    const admitted = results.filter((r) => r.status === 'fulfilled');
    expect(admitted).toHaveLength(40);
    const usage = await api.get(`/api/v1/limits/${created.body.id}/usage`);
    expect(usage.body.counters).toEqual([
      expect.objectContaining({ dimension: 'budget', limit: 2, used: 0, reserved: 2 }),
    ]);
  });
});
