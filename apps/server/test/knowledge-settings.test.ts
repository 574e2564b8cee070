import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, until } from './support/gateway-setup.ts';

/** Re-index on new chunking settings, batch cancellation, hybrid search's score breakdown. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: provider, upstream_model: 'fake-embed' }],
  });
  client = openai(ts, await createKey(ts));
}, 60_000);
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

const upload = async (text: string, name: string) =>
  (await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' })).id;
type Staged = OpenAI.VectorStores.VectorStoreFile & { chunk_count: number; stages: Record<string, unknown> };
const fileOf = async (storeId: string, fileId: string) =>
  (await client.vectorStores.files.retrieve(fileId, { vector_store_id: storeId })) as Staged;

const LONG = Array.from(
  { length: 400 },
  (_, i) => `Paragraph ${i} describes the harvest of field ${i % 13}.`,
).join('\n\n');

describe('knowledge base settings', () => {
  it('re-indexes every file when the chunking settings change', async () => {
    const fileId = await upload(LONG, 'fields.md');
    const store = await client.vectorStores.create({ name: 'fields', file_ids: [fileId] });
    const first = await until(async () => {
      const f = await fileOf(store.id, fileId);
      return f.status === 'completed' ? f : null;
    }, 60_000);
    const updated = await client.vectorStores.update(store.id, {
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 } },
    } as never);
    expect((updated as unknown as { chunking_strategy: unknown }).chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 },
    });
    const second = await until(async () => {
      const f = await fileOf(store.id, fileId);
      return f.status === 'completed' &&
        f.chunking_strategy?.type === 'static' &&
        f.chunk_count !== first.chunk_count
        ? f
        : null;
    }, 60_000);
    // 800/400 overlaps (more chunks of the same text); 200/0 does not
    expect(first.chunk_count).toBeGreaterThan(0);
    expect(second.chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 },
    });
    const content = (await client.vectorStores.files.content(fileId, { vector_store_id: store.id })).data;
    expect(content).toHaveLength(second.chunk_count);
    expect(content.map((c) => c.text).join('\n\n')).toBe(LONG);
  }, 120_000);

  it('cancels a batch: its files still in progress stop and say cancelled', async () => {
    upstream.setOptions({ latencyMs: 3_000 });
    try {
      const ids = [await upload(LONG, 'a.txt'), await upload(`${LONG} again`, 'b.txt')];
      const store = await client.vectorStores.create({ name: 'slow' });
      const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: ids });
      expect(batch.status).toBe('in_progress');
      const cancelled = await client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
      expect(cancelled).toMatchObject({ status: 'cancelled', file_counts: { cancelled: 2, in_progress: 0 } });
      const files = await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
      expect(files.data.map((f) => f.status)).toEqual(['cancelled', 'cancelled']);
      const page = await client.vectorStores.search(store.id, { query: 'harvest' });
      expect(page.data).toEqual([]);
    } finally {
      upstream.setOptions({ latencyMs: 0 });
    }
  }, 60_000);

  it('fuses BM25 with dense search (ranker auto) and shows both in score_breakdown', async () => {
    const fileId = await upload(
      'The zeppelin hangar at Lakehurst.\n\nA recipe for plum dumplings.',
      'mixed.txt',
    );
    const store = await client.vectorStores.create({
      name: 'hybrid',
      file_ids: [fileId],
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } },
    });
    await until(async () => (await fileOf(store.id, fileId)).status === 'completed', 60_000);
    const page = await client.vectorStores.search(store.id, {
      query: 'zeppelin',
      ranking_options: { ranker: 'auto' },
    });
    const top = page.data[0] as unknown as {
      score_breakdown: { dense: number | null; lexical: number | null; lexical_rank: number | null };
    };
    expect(top.score_breakdown.lexical).toBeGreaterThan(0);
    expect(top.score_breakdown.lexical_rank).toBe(1);
    expect(top.score_breakdown.dense).not.toBeNull();
    const dense = await client.vectorStores.search(store.id, {
      query: 'zeppelin',
      ranking_options: { ranker: 'none' },
    });
    expect(
      (dense.data[0] as unknown as { score_breakdown: { lexical: null } }).score_breakdown.lexical,
    ).toBeNull();
  }, 60_000);

  it('documents the vector store routes in /openapi.json', async () => {
    const spec = await (await fetch(`${ts.url}/openapi.json`)).json();
    for (const path of [
      '/v1/vector_stores',
      '/v1/vector_stores/{vector_store_id}/search',
      '/v1/vector_stores/{vector_store_id}/files/{file_id}/content',
      '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel',
    ])
      expect(Object.keys(spec.paths)).toContain(path);
  });

  it('sets expires_at from expires_after and moves it with activity', async () => {
    const store = await client.vectorStores.create({
      name: 'short-lived',
      expires_after: { anchor: 'last_active_at', days: 2 },
    });
    expect(store.expires_after).toEqual({ anchor: 'last_active_at', days: 2 });
    expect(store.expires_at).toBe(store.last_active_at! + 2 * 86_400);
    const cleared = await client.vectorStores.update(store.id, { expires_after: null } as never);
    expect(cleared.expires_at).toBeNull();
    await expect(
      client.vectorStores.create({ expires_after: { anchor: 'created_at' as never, days: 2 } }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
