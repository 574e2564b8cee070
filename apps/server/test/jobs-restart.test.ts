import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { jobs } from '../src/modules/jobs/index.ts';
import { usageEvents } from '../src/modules/metering/schema.ts';
import { until } from './support/gateway-setup.ts';

/**
 * kill -9 of a `maas serve` in the middle of an async job: the restarted process takes the job over
 * (on PGlite at once, the directory being its alone; on PostgreSQL when the lease runs out) and
 * finishes it; the user sees one result and one usage row.
 */
const base = testDatabaseUrl();

describe('a job survives kill -9 of its server', () => {
  let upstream: FakeUpstream | undefined;
  let server: SpawnedServer | undefined;
  let dataDir: string | undefined;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    await scratch?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes and completes after a restart', async () => {
    upstream = await startFakeUpstream();
    scratch = base ? await createScratchDatabase(base) : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'maas-jobs-'));
    const env = {
      NODE_ENV: 'test',
      MAAS_DATA_DIR: dataDir,
      ...(scratch ? { DATABASE_URL: scratch.url } : {}),
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: '0',
      MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
      MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MAAS_LOG_LEVEL: 'info',
      // short enough that PostgreSQL's takeover after the kill is quick, long enough that a loaded
      // CI machine's late heartbeat (every third of it) does not hand the running job to a new attempt
      MAAS_JOB_LEASE_MS: '5000',
      MAAS_SHUTDOWN_TIMEOUT_MS: '1000',
    };
    server = await spawnServer(env);
    const admin = createApiClient(server.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const provider = await admin.post('/api/v1/providers', {
      name: 'fake',
      type: 'openai-compatible',
      base_url: upstream.url,
    });
    await admin.post('/api/v1/models', {
      name: 'chat',
      type: 'chat',
      targets: [{ provider_id: provider.body.id, upstream_model: 'slow' }],
    });
    const project = (await admin.get('/api/v1/projects')).body.data[0].id;
    const created = await admin.post('/api/v1/keys', {
      name: 'async',
      project_id: project,
      scopes: ['inference'],
    });
    const key: string = created.body.key;
    const call = async (url: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1/async${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await res.json()) as Record<string, any>;
    };

    // the upstream holds the first answer long enough to kill the server while it waits
    upstream.setFaults({ model: 'slow', latencyMs: 60_000, times: 1 });
    const job = await call(server.url, 'POST', '/chat/completions', {
      model: 'chat',
      messages: [{ role: 'user', content: 'survive' }],
    });
    await upstream.waitForRequest((r) => r.body?.model === 'slow', 10_000);
    expect((await call(server.url, 'GET', `/jobs/${job.id}`)).status).toBe('running');
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server!.child.once('exit', resolve));

    server = await respawnServer(env);
    const done = await until(
      async () => {
        const row = await call(server!.url, 'GET', `/jobs/${job.id}`);
        return ['succeeded', 'failed'].includes(row.status) ? row : null;
      },
      30_000,
      'the job finished after the restart',
    );
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(done.result.object).toBe('chat.completion');
    expect(upstream.requests.filter((r) => r.body?.model === 'slow')).toHaveLength(2);

    await server.stop(); // flushes usage
    server = undefined;
    const database = await openDatabase(scratch ? { databaseUrl: scratch.url } : { dataDir });
    try {
      const [row] = await database.db.select().from(jobs).where(eq(jobs.id, job.id));
      expect(row).toMatchObject({ status: 'succeeded', lockedBy: null });
      const usage = await database.db
        .select()
        .from(usageEvents)
        .where(eq(usageEvents.keyId, created.body.id));
      expect(usage.filter((u) => u.outcome === 'success')).toHaveLength(1);
      expect(usage.map((u) => u.requestId)).toContain(done.request_id);
    } finally {
      await database.close();
    }

    // SIGTERM mid-job: the handler gets the shutdown grace, then its lease goes back uncounted
    server = await respawnServer(env);
    upstream.setFaults({ model: 'slow', latencyMs: 60_000, times: 1 });
    const second = await call(server.url, 'POST', '/chat/completions', {
      model: 'chat',
      messages: [{ role: 'user', content: 'drain' }],
    });
    await until(
      async () => (await call(server!.url, 'GET', `/jobs/${second.id}`)).status === 'running',
      10_000,
      'running',
    );
    // stopped only once the held call reached the upstream (it consumed the slow answer)
    await until(
      () => upstream!.requests.filter((r) => r.body?.model === 'slow').length === 3,
      10_000,
      'the drained call at the upstream',
    );
    await server.stop(30_000); // SIGKILL only if the drain hangs: a loaded machine's shutdown can take seconds
    server = await respawnServer(env);
    const drained = await until(
      async () => {
        const row = await call(server!.url, 'GET', `/jobs/${second.id}`);
        return ['succeeded', 'failed'].includes(row.status) ? row : null;
      },
      30_000,
      'the drained job finished after the restart',
    );
    expect(drained).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
  }, 240_000);
});
