import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createApiClient,
  createScratchDatabase,
  type FakeUpstream,
  respawnServer,
  type SpawnedServer,
  spawnServer,
  startFakeUpstream,
  testDatabaseUrl,
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
 * kill -9 of `maas serve` in the middle of a batch, then a restart on the same data: the batch
 * completes, every custom_id is answered once, and every answered line is metered once.
 */
let upstream: FakeUpstream;
let dataDir: string;
let scratch: { url: string; drop(): Promise<void> } | undefined;
const servers: SpawnedServer[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream({ latencyMs: 20, chunks: 2 });
  dataDir = await mkdtemp(join(tmpdir(), 'maas-batch-restart-'));
  const base = testDatabaseUrl();
  scratch = base ? await createScratchDatabase(base) : undefined;
});
afterAll(async () => {
  for (const s of servers) await s.stop(1000).catch(() => {});
  await upstream?.close();
  await scratch?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a batch across kill -9 and restart', () => {
  it('completes with no line answered or billed twice', async () => {
    const env = batchServerEnv(scratch ? { DATABASE_URL: scratch.url } : { MAAS_DATA_DIR: dataDir });
    const first = await spawnServer(env);
    servers.push(first);
    const { keyId, secret } = await setUpBatchTenant(first, upstream);
    const client = sdk(first.url, secret);
    const batch = await createLinesBatch(client, 300, 'k9');
    await until(
      async () => (await client.batches.retrieve(batch.id)).request_counts!.completed >= 60,
      30_000,
      '60 lines',
    );
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const before = upstream.requests.length;
    expect(before).toBeLessThan(301);

    const second = await respawnServer(env);
    servers.push(second);
    const again = sdk(second.url, secret);
    const done = await waitForBatch(again, batch.id, 60_000);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 300, completed: 300, failed: 0 });
    const admin2 = createApiClient(second.url);
    await admin2.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const report = await exactlyOnceReport(again, admin2, done, keyId, upstream);
    expect(report).toMatchObject({ output: 300, errors: 0, distinct: 300, reached: 300, metered: 300 });
    // only lines in flight (or answered but not yet stored) at the kill went upstream again, and none was billed twice
    // only lines in flight or answered but not yet stored (answers are stored every 100 ms) at the
    // kill went upstream again; none was billed twice (metered = lines)
    expect(report.resent).toBeLessThanOrEqual(40);
    console.info('kill -9:', JSON.stringify(report));
  }, 120_000);
});
