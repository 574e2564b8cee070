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
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchServerEnv } from './support/batch-spawned.ts';
import { until } from './support/gateway-setup.ts';

/**
 * kill -9 of `maas serve` while a document is being embedded, then a restart on the same data:
 * the ingestion job runs again and the file ends with exactly the chunks a clean run makes.
 */
let upstream: FakeUpstream;
let dataDir: string;
let scratch: { url: string; drop(): Promise<void> } | undefined;
const servers: SpawnedServer[] = [];

beforeAll(async () => {
  // slow embeddings: the kill lands in the middle of the embed stage
  upstream = await startFakeUpstream({ latencyMs: 700 });
  dataDir = await mkdtemp(join(tmpdir(), 'maas-kb-restart-'));
  const base = testDatabaseUrl();
  scratch = base ? await createScratchDatabase(base) : undefined;
});
afterAll(async () => {
  for (const s of servers) await s.stop(1000).catch(() => {});
  await upstream?.close();
  await scratch?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

async function setUp(server: SpawnedServer) {
  const admin = createApiClient(server.url);
  await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
  const provider = await admin.post('/api/v1/providers', {
    name: 'fake',
    type: 'openai-compatible',
    base_url: upstream.url,
  });
  await admin.post('/api/v1/models', {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: provider.body.id, upstream_model: 'fake-embed' }],
  });
  const projectId = (await admin.get('/api/v1/projects')).body.data.find(
    (p: { name: string }) => p.name === 'default',
  ).id;
  const key = await admin.post('/api/v1/keys', { name: 'kb', project_id: projectId, scopes: ['inference'] });
  return key.body.key as string;
}

const sdk = (url: string, secret: string) =>
  new OpenAI({ apiKey: secret, baseURL: `${url}/v1`, maxRetries: 2 });
type StagedFile = OpenAI.VectorStores.VectorStoreFile & {
  stages: Record<string, { finished_at: number | null }>;
  chunk_count: number;
};

const contentOf = async (c: OpenAI, storeId: string, fileId: string) =>
  (await c.vectorStores.files.content(fileId, { vector_store_id: storeId })).data.map((d) => d.text);

describe('ingestion across kill -9 and restart', () => {
  it('resumes the document and leaves no duplicated chunk', async () => {
    const env = batchServerEnv(scratch ? { DATABASE_URL: scratch.url } : { MAAS_DATA_DIR: dataDir });
    const first = await spawnServer(env);
    servers.push(first);
    const secret = await setUp(first);
    const client = sdk(first.url, secret);
    // ~600 chunks of 100 tokens: ten requests of 64 inputs, two at a time, 700 ms each
    const text = Array.from(
      { length: 3000 },
      (_, i) => `Line ${i} of the long ledger records entry number ${i * 7}.`,
    ).join('\n');
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'ledger.txt'),
      purpose: 'assistants',
    });
    const store = await client.vectorStores.create({
      name: 'ledger',
      file_ids: [file.id],
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 } },
    });
    await until(
      async () => {
        const f = (await client.vectorStores.files.retrieve(file.id, {
          vector_store_id: store.id,
        })) as StagedFile;
        return f.stages.embed && upstream.requests.length >= 2;
      },
      30_000,
      'embedding under way',
    );
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await respawnServer(env);
    servers.push(second);
    const again = sdk(second.url, secret);
    const done = (await until(
      async () => {
        const f = (await again.vectorStores.files.retrieve(file.id, {
          vector_store_id: store.id,
        })) as StagedFile;
        return f.status !== 'in_progress' ? f : null;
      },
      90_000,
      'ingestion after restart',
    )) as StagedFile;
    expect(done.status).toBe('completed');
    expect(done.last_error).toBeNull();
    // the same document in a fresh store, never interrupted: the same chunks, once each
    const clean = await again.vectorStores.create({
      name: 'clean',
      file_ids: [file.id],
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 } },
    });
    await until(
      async () =>
        (await again.vectorStores.files.retrieve(file.id, { vector_store_id: clean.id })).status ===
        'completed',
      90_000,
      'clean ingestion',
    );
    const resumed = await contentOf(again, store.id, file.id);
    expect(resumed.length).toBeGreaterThan(100);
    expect(resumed).toEqual(await contentOf(again, clean.id, file.id));
    expect(done.chunk_count).toBe(resumed.length);
    expect((await again.vectorStores.retrieve(store.id)).file_counts).toMatchObject({
      completed: 1,
      total: 1,
    });
  }, 240_000);
});
