import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, until } from './support/gateway-setup.ts';
import { makeDocx, makePdf } from './support/knowledge-docs.ts';

/** /v1/vector_stores with the stock SDK: ingestion of real documents, search, filters, isolation. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let other: OpenAI;

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
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant B' });
  const b = ts.client();
  await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const bProvider = await createProvider(ts, { name: 'b-fake', base_url: upstream.url }, b);
  await createModel(
    ts,
    {
      name: 'b-embed',
      type: 'embedding',
      targets: [{ provider_id: bProvider, upstream_model: 'fake-embed' }],
    },
    b,
  );
  const bProject = (await b.get('/api/v1/projects')).body.data[0].id;
  other = openai(ts, await createKey(ts, { project_id: bProject }, b));
}, 60_000);
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

const upload = async (c: OpenAI, bytes: Buffer | string, name: string) =>
  (await c.files.create({ file: await toFile(Buffer.from(bytes), name), purpose: 'assistants' })).id;

async function settled(c: OpenAI, storeId: string) {
  return until(
    async () => {
      const files = (await c.vectorStores.files.list(storeId)).data;
      return files.every((f) => f.status !== 'in_progress') ? files : null;
    },
    60_000,
    'ingestion',
  );
}

const SENTENCES = [
  'The lighthouse keeper logged every ship that passed the northern cape.',
  'Tea plantations on the hillside were harvested twice each spring.',
  '长江是中国最长的河流，流经多个省份。',
];

describe('the vector store flow with the openai SDK', () => {
  let storeId: string;
  const ids: Record<string, string> = {};

  it('ingests txt, md, html, csv, pdf and docx files and reports each stage', async () => {
    ids.txt = await upload(client, SENTENCES.join(' '), 'notes.txt');
    ids.md = await upload(client, `# Harbour\n\n${SENTENCES[0]}\n\n## Tea\n\n${SENTENCES[1]}`, 'guide.md');
    ids.html = await upload(
      client,
      `<html><body><h1>River</h1><p>${SENTENCES[2]}</p><script>x()</script></body></html>`,
      'page.html',
    );
    ids.csv = await upload(client, 'city,river\nWuhan,Yangtze\nCairo,Nile\n', 'rivers.csv');
    ids.pdf = await upload(
      client,
      await makePdf(['Quarterly report of the orchard cooperative.', 'Apples sold: 4,200 crates.']),
      'report.pdf',
    );
    ids.docx = await upload(
      client,
      await makeDocx(['Minutes of the village council.', 'The bridge repair was approved.']),
      'minutes.docx',
    );
    const store = await client.vectorStores.create({
      name: 'handbook',
      file_ids: [ids.txt!, ids.md!, ids.html!],
    });
    storeId = store.id;
    expect(store).toMatchObject({ object: 'vector_store', name: 'handbook', status: 'in_progress' });
    expect(store.file_counts.total).toBe(3);
    await client.vectorStores.files.create(storeId, {
      file_id: ids.csv!,
      attributes: { kind: 'table', year: 2024 },
    });
    const batch = await client.vectorStores.fileBatches.create(storeId, {
      file_ids: [ids.pdf!, ids.docx!],
      attributes: { kind: 'office', year: 2025 },
    });
    expect(batch).toMatchObject({ object: 'vector_store.files_batch', vector_store_id: storeId });
    const files = await settled(client, storeId);
    expect(files.map((f) => [f.id, f.status, f.last_error])).toEqual(
      expect.arrayContaining(Object.values(ids).map((id) => [id, 'completed', null])),
    );
    const one = (await client.vectorStores.files.retrieve(ids.pdf!, {
      vector_store_id: storeId,
    })) as unknown as {
      stages: Record<string, { started_at: number; finished_at: number; error: string | null }>;
      usage_bytes: number;
    };
    for (const stage of ['parse', 'split', 'embed', 'index']) {
      expect(one.stages[stage]!.finished_at).toBeGreaterThanOrEqual(one.stages[stage]!.started_at);
      expect(one.stages[stage]!.error).toBeNull();
    }
    expect(one.usage_bytes).toBeGreaterThan(0);
    const done = await client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: storeId });
    expect(done).toMatchObject({ status: 'completed', file_counts: { completed: 2, total: 2 } });
    const after = await client.vectorStores.retrieve(storeId);
    expect(after).toMatchObject({ status: 'completed', file_counts: { completed: 6, total: 6, failed: 0 } });
    expect(after.usage_bytes).toBeGreaterThan(0);
  }, 120_000);

  it('gives back parsed content: pdf, docx, html (scripts dropped) and csv rows', async () => {
    const text = async (id: string) =>
      (await client.vectorStores.files.content(id, { vector_store_id: storeId })).data
        .map((c) => c.text)
        .join('\n');
    expect(await text(ids.pdf!)).toContain('Apples sold: 4,200 crates.');
    expect(await text(ids.docx!)).toContain('The bridge repair was approved.');
    const html = await text(ids.html!);
    expect(html).toContain('长江是中国最长的河流');
    expect(html).not.toContain('x()');
    expect(await text(ids.csv!)).toContain('city: Wuhan; river: Yangtze');
  });

  it('searches: the exact chunk first, with OpenAI’s shape and a score breakdown; filters on attributes', async () => {
    const [chunk] = (await client.vectorStores.files.content(ids.docx!, { vector_store_id: storeId })).data;
    const page = await client.vectorStores.search(storeId, { query: chunk!.text!, max_num_results: 3 });
    expect(page.data).toHaveLength(3);
    expect(page.data[0]).toMatchObject({
      file_id: ids.docx,
      filename: 'minutes.docx',
      attributes: { kind: 'office', year: 2025 },
      content: [{ type: 'text', text: chunk!.text }],
    });
    expect(
      (page.data[0] as unknown as { score_breakdown: { dense: number } }).score_breakdown.dense,
    ).toBeCloseTo(1, 3);
    const filtered = await client.vectorStores.search(storeId, {
      query: chunk!.text!,
      filters: {
        type: 'and',
        filters: [
          { type: 'eq', key: 'kind', value: 'table' },
          { type: 'gte', key: 'year', value: 2024 },
        ],
      },
    });
    expect(filtered.data.map((d) => d.file_id)).toEqual([ids.csv]);
    const none = await client.vectorStores.search(storeId, {
      query: 'x',
      filters: { type: 'gt', key: 'year', value: 2030 },
    });
    expect(none.data).toEqual([]);
    const dense = await client.vectorStores.search(storeId, {
      query: [chunk!.text!, 'tea'],
      ranking_options: { ranker: 'none', score_threshold: 0.99 },
      rewrite_query: false,
    });
    expect(dense.data.map((d) => d.file_id)).toEqual([ids.docx]);
  });

  it('updates attributes and store settings, lists with cursors, removes files and the store', async () => {
    const updated = await client.vectorStores.files.update(ids.csv!, {
      vector_store_id: storeId,
      attributes: { kind: 'sheet' },
    });
    expect(updated.attributes).toEqual({ kind: 'sheet' });
    const renamed = await client.vectorStores.update(storeId, {
      name: 'renamed',
      metadata: { team: 'docs' },
    });
    expect(renamed).toMatchObject({ name: 'renamed', metadata: { team: 'docs' } });
    const first = await client.vectorStores.files.list(storeId, { limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const f of client.vectorStores.files.list(storeId, { limit: 2 })) all.push(f.id);
    expect(all.sort()).toEqual(Object.values(ids).sort());
    expect((await client.vectorStores.files.list(storeId, { filter: 'failed' })).data).toEqual([]);
    const gone = await client.vectorStores.files.delete(ids.txt!, { vector_store_id: storeId });
    expect(gone).toEqual({ id: ids.txt, object: 'vector_store.file.deleted', deleted: true });
    expect((await client.vectorStores.retrieve(storeId)).file_counts.total).toBe(5);
    const listed = await client.vectorStores.list();
    expect(listed.data.map((s) => s.id)).toContain(storeId);
    expect(await client.vectorStores.delete(storeId)).toEqual({
      id: storeId,
      object: 'vector_store.deleted',
      deleted: true,
    });
    await expect(client.vectorStores.retrieve(storeId)).rejects.toMatchObject({ status: 404 });
  });
});

describe('documents that cannot be ingested', () => {
  it('fail with the reason: status failed, last_error, and the stage that failed', async () => {
    const broken = await upload(client, Buffer.from('%PDF-1.7 this is not really a pdf'), 'broken.pdf');
    const binary = await upload(client, Buffer.from([0, 1, 2, 3]), 'blob.exe');
    const store = await client.vectorStores.create({ name: 'bad', file_ids: [broken, binary] });
    const files = await settled(client, store.id);
    const byId = new Map(files.map((f) => [f.id, f]));
    expect(byId.get(broken)).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file' } });
    expect(byId.get(broken)!.last_error!.message).toMatch(/pdf/i);
    expect(byId.get(binary)).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file' } });
    const stages = (byId.get(binary) as unknown as { stages: { parse: { error: string } } }).stages;
    expect(stages.parse.error).toMatch(/not supported/);
    expect((await client.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ failed: 2, total: 2 });
  }, 60_000);
});

describe('tenant isolation and bad input', () => {
  let storeId: string;
  let fileId: string;
  let batchId: string;
  beforeAll(async () => {
    fileId = await upload(client, 'private text of org A', 'a.txt');
    storeId = (await client.vectorStores.create({ name: 'private', file_ids: [fileId] })).id;
    batchId = (await client.vectorStores.fileBatches.create(storeId, { file_ids: [fileId] })).id;
    await settled(client, storeId);
  }, 60_000);

  it("answers another org's key with 404 on every route, and leaks nothing", async () => {
    const opts = { vector_store_id: storeId };
    const calls: Promise<unknown>[] = [
      other.vectorStores.retrieve(storeId),
      other.vectorStores.update(storeId, { name: 'x' }),
      other.vectorStores.delete(storeId),
      other.vectorStores.search(storeId, { query: 'private' }),
      other.vectorStores.files.list(storeId),
      other.vectorStores.files.create(storeId, { file_id: fileId }),
      other.vectorStores.files.retrieve(fileId, opts),
      other.vectorStores.files.update(fileId, { ...opts, attributes: { a: 1 } }),
      other.vectorStores.files.delete(fileId, opts),
      other.vectorStores.files.content(fileId, opts),
      other.vectorStores.fileBatches.create(storeId, { file_ids: [fileId] }),
      other.vectorStores.fileBatches.retrieve(batchId, opts),
      other.vectorStores.fileBatches.cancel(batchId, opts),
      other.vectorStores.fileBatches.listFiles(batchId, opts),
    ];
    const outcomes = await Promise.allSettled(calls);
    for (const o of outcomes) expect(o).toMatchObject({ status: 'rejected', reason: { status: 404 } });
    expect((await other.vectorStores.list()).data).toEqual([]);
    // its own store cannot take org A's file
    const own = await other.vectorStores.create({ name: 'b' });
    await expect(other.vectorStores.files.create(own.id, { file_id: fileId })).rejects.toMatchObject({
      status: 404,
    });
    expect((await client.vectorStores.retrieve(storeId)).name).toBe('private');
  });

  it('refuses bad input with OpenAI-style 400s', async () => {
    const bad = async (p: Promise<unknown>) => {
      const err = (await p.then(
        () => null,
        (e: unknown) => e,
      )) as { status: number; error: { type: string; message: string } } | null;
      expect(err?.status).toBe(400);
      expect(err?.error.type).toBe('invalid_request_error');
      expect(err?.error.message).toBeTruthy();
    };
    await bad(client.vectorStores.search(storeId, { query: 'x', max_num_results: 51 }));
    await bad(client.vectorStores.search(storeId, { query: 'x', max_num_results: 0 }));
    await bad(
      client.vectorStores.search(storeId, {
        query: 'x',
        filters: { type: 'like', key: 'a', value: 1 } as never,
      }),
    );
    await bad(
      client.vectorStores.create({
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 500 },
        },
      }),
    );
    await bad(client.vectorStores.create({ name: 'x', ...({ embedding_model: 'no-such-model' } as object) }));
    await bad(
      client.vectorStores.files.create(storeId, {
        file_id: fileId,
        attributes: { k: { nested: 1 } as never },
      }),
    );
    await bad(client.vectorStores.fileBatches.create(storeId, {} as never));
    await expect(client.vectorStores.retrieve('vs_nope')).rejects.toMatchObject({ status: 404 });
  });
});
