import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, until, v1 } from './support/gateway-setup.ts';

/** The heading and parent-child splitters through /v1/vector_stores, with the stock SDK. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let key: string;

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: provider, upstream_model: 'fake-embed' }],
  });
  key = await createKey(ts);
  client = openai(ts, key);
}, 60_000);
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

type Hit = OpenAI.VectorStores.VectorStoreSearchResponse & { headings: string[] };
type Staged = OpenAI.VectorStores.VectorStoreFile & { chunk_count: number };

const upload = async (text: string, name: string) =>
  (await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' })).id;
const completed = (storeId: string, fileId: string) =>
  until(
    async () => {
      const f = (await client.vectorStores.files.retrieve(fileId, { vector_store_id: storeId })) as Staged;
      return f.status === 'completed' ? f : null;
    },
    60_000,
    'ingestion',
  );

const HTML = `<html><body>
<h1>Harbor manual</h1><p>General rules of the harbor.</p>
<h2>Mooring</h2><p>Boats moor at the eastern quay with two bow lines.</p>
<h2>Fees</h2><p>The mooring fee is paid at the harbor office each Monday.</p>
</body></html>`;

describe('splitters', () => {
  it('heading: markdown and html sections are chunks of their own, hits carry the heading path', async () => {
    const md = await upload(
      '# Garden\nAbout the garden.\n## Roses\nRoses want sun and a trellis.\n## Ferns\nFerns want shade and water.',
      'garden.md',
    );
    const html = await upload(HTML, 'harbor.html');
    const store = await client.vectorStores.create({
      name: 'by heading',
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0, splitter: 'heading' } as never,
      },
    });
    expect(store).toMatchObject({
      chunking_strategy: { static: { splitter: 'heading', max_chunk_size_tokens: 400 } },
    });
    await client.vectorStores.files.create(store.id, { file_id: md });
    await client.vectorStores.files.create(store.id, { file_id: html });
    expect((await completed(store.id, md)).chunk_count).toBe(3);
    expect((await completed(store.id, html)).chunk_count).toBe(3);
    const page = await client.vectorStores.search(store.id, { query: 'ferns shade' });
    const top = page.data[0] as Hit;
    expect(top.headings).toEqual(['Garden', 'Ferns']);
    expect(top.content[0]!.text).toBe('## Ferns\nFerns want shade and water.');
    const fee = (await client.vectorStores.search(store.id, { query: 'mooring fee office' })).data[0] as Hit;
    expect(fee).toMatchObject({ filename: 'harbor.html', headings: ['Harbor manual', 'Fees'] });
  }, 90_000);

  it('parent_child: small children are searched, their parent comes back once', async () => {
    const facts = Array.from(
      { length: 60 },
      (_, i) =>
        `Fact ${i}: the lighthouse keeper counted ${i * 3} gulls${i === 41 ? ' and one albatross' : ''}.`,
    ).join(' ');
    const fileId = await upload(facts, 'keeper.txt');
    const store = await client.vectorStores.create({
      name: 'parents',
      file_ids: [fileId],
      chunking_strategy: {
        type: 'static',
        static: {
          max_chunk_size_tokens: 100,
          chunk_overlap_tokens: 0,
          splitter: 'parent_child',
          parent_chunk_size_tokens: 400,
        } as never,
      },
    });
    const file = await completed(store.id, fileId);
    const children = (await client.vectorStores.files.content(fileId, { vector_store_id: store.id })).data;
    expect(children).toHaveLength(file.chunk_count);
    expect(children.every((c) => (c.text ?? '').length < 700)).toBe(true);
    const page = await client.vectorStores.search(store.id, { query: 'albatross', max_num_results: 5 });
    const texts = page.data.map((h) => h.content[0]!.text);
    expect(texts[0]).toContain('albatross');
    // the parent: far longer than a child, holding the neighbours of the matching sentence
    expect(texts[0]!.length).toBeGreaterThan(
      children.find((c) => c.text?.includes('albatross'))!.text!.length,
    );
    expect(new Set(texts).size).toBe(texts.length);
  }, 90_000);

  it('re-indexes when only the splitter changes, and refuses settings that do not fit together', async () => {
    const fileId = await upload('# A\none\n## B\ntwo\n## C\nthree', 'abc.md');
    const store = await client.vectorStores.create({
      name: 'switch',
      file_ids: [fileId],
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0 } },
    });
    expect((await completed(store.id, fileId)).chunk_count).toBe(1);
    await client.vectorStores.update(store.id, {
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0, splitter: 'heading' },
      },
    } as never);
    await until(
      async () => {
        const f = (await client.vectorStores.files.retrieve(fileId, { vector_store_id: store.id })) as Staged;
        return f.status === 'completed' && f.chunk_count === 3;
      },
      60_000,
      're-index',
    );
    const bad = await v1(ts, key, '/vector_stores', {
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0, parent_chunk_size_tokens: 800 },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.type).toBe('invalid_request_error');
    expect(bad.body.error.message).toContain('parent_chunk_size_tokens');
    const unknown = await v1(ts, key, '/vector_stores', {
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0, splitter: 'semantic' },
      },
    });
    expect(unknown.status).toBe(400);
  }, 90_000);
});
