import { randomBytes } from 'node:crypto';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  createApiClient,
  createScratchDatabase,
  type SpawnedServer,
  spawnServer,
  testDatabaseUrl,
  testRedisUrl,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Two real `maas serve` processes on one PostgreSQL database and one Redis: a key change made
 * through one replica reaches the other's key cache through the bus.
 */
const databaseUrl = testDatabaseUrl();
const redisUrl = testRedisUrl();

describe.skipIf(!databaseUrl || !redisUrl)('API keys across replicas', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  const servers: SpawnedServer[] = [];
  let a: ApiClient;
  let b: ApiClient;
  let projectId: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase(databaseUrl!);
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
    // One after the other: the first migrates and bootstraps, the second finds it done.
    servers.push(await spawnServer(env));
    servers.push(await spawnServer(env));
    a = createApiClient(servers[0]!.url);
    await a.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    b = createApiClient(servers[1]!.url);
    const project = await a.post('/api/v1/projects', { name: 'replicated' });
    expect(project.status).toBe(201);
    projectId = project.body.id;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await scratch?.drop();
  });

  const statusOn = async (client: ApiClient, secret: string) =>
    (await client.request('GET', '/api/v1/keys?limit=1', undefined, { authorization: `Bearer ${secret}` }))
      .status;

  /** ms until `check` holds, polling; throws past `timeoutMs` */
  async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
    const started = performance.now();
    while (!(await check())) {
      if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now() - started;
  }

  it('accepts on B a key created through A, and refuses it on B within a second of its revocation on A', async () => {
    const created = await a.post('/api/v1/keys', {
      name: 'shared',
      project_id: projectId,
      scopes: ['admin:read'],
    });
    expect(created.status).toBe(201);
    const secret: string = created.body.key;
    expect(await statusOn(b, secret)).toBe(200);

    const started = performance.now();
    expect((await a.delete(`/api/v1/keys/${created.body.id}`)).status).toBe(204);
    await within(1_000, async () => (await statusOn(b, secret)) === 401);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await statusOn(a, secret)).toBe(401);
  });

  it('moves B to the new secret when A rotates a key without a grace period', async () => {
    const created = await a.post('/api/v1/keys', {
      name: 'rotated',
      project_id: projectId,
      scopes: ['admin:read'],
    });
    const old: string = created.body.key;
    expect(await statusOn(b, old)).toBe(200);
    const rotated = await a.post(`/api/v1/keys/${created.body.id}/rotate`, {});
    expect(rotated.status).toBe(200);
    expect(await statusOn(b, rotated.body.key)).toBe(200);
    await within(1_000, async () => (await statusOn(b, old)) === 401);
  });

  it('applies an expiry set through A on B', async () => {
    const created = await a.post('/api/v1/keys', {
      name: 'expiring',
      project_id: projectId,
      scopes: ['admin:read'],
    });
    const secret: string = created.body.key;
    expect(await statusOn(b, secret)).toBe(200);
    const soon = new Date(Date.now() + 300).toISOString();
    expect((await a.patch(`/api/v1/keys/${created.body.id}`, { expires_at: soon })).status).toBe(200);
    await within(2_000, async () => (await statusOn(b, secret)) === 401);
  });
});
