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
import { waitForBatch } from './support/batch-setup.ts';
import {
  batchServerEnv,
  createLinesBatch,
  exactlyOnceReport,
  sdk,
  setUpBatchTenant,
} from './support/batch-spawned.ts';
import { until } from './support/gateway-setup.ts';

/**
 * Two `maas serve` replicas on one PostgreSQL database share one batch: both claim its lines,
 * each line is answered and billed once; then one replica is killed mid-batch and the other
 * finishes the batch alone.
 */
const databaseUrl = testDatabaseUrl();
const redisUrl = testRedisUrl();

describe.skipIf(!databaseUrl || !redisUrl)('a batch shared by two replicas', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let upstream: FakeUpstream;
  const servers: SpawnedServer[] = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream({ latencyMs: 20, chunks: 2 });
    scratch = await createScratchDatabase(databaseUrl!);
    const env = batchServerEnv({ DATABASE_URL: scratch.url, REDIS_URL: redisUrl! });
    // one after the other: the first migrates and bootstraps, the second finds it done
    servers.push(await spawnServer(env));
    servers.push(await spawnServer(env));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop(1000)));
    await upstream?.close();
    await scratch?.drop();
  });

  it('both replicas run its lines; each line is answered and metered once', async () => {
    const [a, b] = servers as [SpawnedServer, SpawnedServer];
    const { admin, keyId, secret } = await setUpBatchTenant(a, upstream);
    const client = sdk(a.url, secret);
    // the model reaches the other replica's cache through the bus
    await until(async () => (await sdk(b.url, secret).models.list()).data.length === 1, 10_000, 'model on b');
    upstream.clearRequests();
    const batch = await createLinesBatch(client, 400, 'rep');
    const done = await waitForBatch(sdk(b.url, secret), batch.id, 60_000);
    expect(done.status).toBe('completed');
    const report = await exactlyOnceReport(client, admin, done, keyId, upstream);
    expect(report).toEqual({ output: 400, errors: 0, distinct: 400, resent: 0, reached: 400, metered: 400 });
  }, 90_000);

  it('a replica killed mid-batch: the other one finishes it, nothing billed twice', async () => {
    const [a, b] = servers as [SpawnedServer, SpawnedServer];
    const admin = createApiClient(b.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const keys = await admin.get('/api/v1/keys');
    expect(keys.status).toBe(200);
    const { keyId, secret } = await setUpBatchTenantKey(admin);
    const client = sdk(b.url, secret);
    upstream.clearRequests();
    const batch = await createLinesBatch(sdk(a.url, secret), 300, 'kill');
    await new Promise((r) => setTimeout(r, 1500));
    a.child.kill('SIGKILL');
    const done = await waitForBatch(client, batch.id, 60_000);
    expect(done.status).toBe('completed');
    const report = await exactlyOnceReport(client, admin, done, keyId, upstream);
    expect(report).toMatchObject({ output: 300, errors: 0, distinct: 300, reached: 300, metered: 300 });
    // only lines in flight or answered but not yet stored (answers are stored every 100 ms) at the
    // kill went upstream again; none was billed twice (metered = lines)
    expect(report.resent).toBeLessThanOrEqual(40);
    console.info('kill -9:', JSON.stringify(report));
  }, 90_000);
});

async function setUpBatchTenantKey(admin: ReturnType<typeof createApiClient>) {
  const projects = await admin.get('/api/v1/projects');
  const projectId = projects.body.data.find((p: { name: string }) => p.name === 'default').id;
  const key = await admin.post('/api/v1/keys', {
    name: 'batch-2',
    project_id: projectId,
    scopes: ['inference'],
  });
  return { keyId: key.body.id as string, secret: key.body.key as string };
}
