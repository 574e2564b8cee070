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
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { usageEvents } from '../src/modules/metering/schema.ts';

/**
 * kill -9 of `maas serve` right after it answered: the usage events still waiting in memory for
 * their batch write were journaled before each answer completed, and the next start writes them.
 * Every answered request has its one usage row.
 */
const base = testDatabaseUrl();

describe('usage survives kill -9 of its server', () => {
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

  it('every answered request is metered once after a restart', async () => {
    upstream = await startFakeUpstream();
    scratch = base ? await createScratchDatabase(base) : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'maas-usage-kill-'));
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
      targets: [{ provider_id: provider.body.id, upstream_model: 'fake-chat' }],
    });
    const project = (await admin.get('/api/v1/projects')).body.data[0].id;
    const created = await admin.post('/api/v1/keys', {
      name: 'metered',
      project_id: project,
      scopes: ['inference'],
    });
    const client = new OpenAI({ apiKey: created.body.key, baseURL: `${server.url}/v1`, maxRetries: 0 });

    // answered requests, the last ones well inside the writer's 500 ms batching window; then kill -9
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await client.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: `n${i}` }] })
        .withResponse();
      ids.push(res.response.headers.get('x-request-id')!);
    }
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server!.child.once('exit', resolve));

    server = await respawnServer(env);
    await server.stop(); // the start replays the journal; the stop flushes what is left
    server = undefined;
    const database = await openDatabase(scratch ? { databaseUrl: scratch.url } : { dataDir });
    try {
      const rows = await database.db.select().from(usageEvents).where(eq(usageEvents.keyId, created.body.id));
      expect(rows.map((r) => r.requestId).sort()).toEqual([...ids].sort());
      expect(rows.every((r) => r.outcome === 'success' && r.promptTokens > 0)).toBe(true);
    } finally {
      await database.close();
    }
  }, 120_000);
});
