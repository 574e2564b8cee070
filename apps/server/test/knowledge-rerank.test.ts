import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import {
  createKey,
  createModel,
  createProvider,
  issueKey,
  openai,
  until,
  usageOfKey,
  v1,
} from './support/gateway-setup.ts';

/**
 * Search re-ranked through /v1/rerank: a store's `retrieval.rerank_model`, or a rerank model named as
 * `ranking_options.ranker`. Two real upstreams: the fake one (Cohere/vLLM shape, 0..1 scores) and a
 * llama.cpp-style server in this file that answers logits, unsorted, without usage.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let llama: Server;
let llamaCalls = 0;
let client: OpenAI;
let key: string;
let limitedKey: string;
let other: OpenAI;
let storeId: string;

const DOCS = [
  'Amber lanterns hang along the northern harbor wall.',
  'The harbor master keeps a ledger of every ship.',
  'Lanterns of amber glass were made in the old harbor town.',
  'A recipe for barley soup with leeks.',
  'Northern lights are seen from the harbor in winter.',
];
const QUERY = 'amber lanterns harbor';

/** term overlap of the query's words, as a logit (llama.cpp's reranker answers raw scores) */
const overlapLogit = (query: string, doc: string) => {
  const words = new Set(query.toLowerCase().split(/\W+/).filter(Boolean));
  const have = new Set(doc.toLowerCase().split(/\W+/).filter(Boolean));
  let shared = 0;
  for (const w of words) if (have.has(w)) shared++;
  return (shared / words.size) * 8 - 4;
};

async function startLlamaReranker(): Promise<string> {
  llama = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
        return;
      }
      llamaCalls++;
      const { query, documents } = JSON.parse(body) as { query: string; documents: string[] };
      // in input order, as llama.cpp's server answers them
      const results = documents.map((d, index) => ({ index, relevance_score: overlapLogit(query, d) }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ model: 'bge-reranker', object: 'list', results }));
    });
  });
  await new Promise<void>((resolve) => llama.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(llama.address() as AddressInfo).port}/v1`;
}

type Hit = OpenAI.VectorStores.VectorStoreSearchResponse & {
  score_breakdown: { rerank: number | null; rerank_rank: number | null; dense: number | null };
};

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  const llamaProvider = await createProvider(ts, { name: 'llama', base_url: await startLlamaReranker() });
  await createModel(ts, {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: provider, upstream_model: 'fake-embed' }],
  });
  await createModel(ts, {
    name: 'rerank',
    type: 'rerank',
    targets: [{ provider_id: provider, upstream_model: 'fake-rerank' }],
  });
  await createModel(ts, {
    name: 'rerank-logits',
    type: 'rerank',
    targets: [{ provider_id: llamaProvider, upstream_model: 'bge-reranker' }],
  });
  key = await createKey(ts);
  limitedKey = await createKey(ts, { models: ['embed'] });
  client = openai(ts, key);
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant B' });
  const b = ts.client();
  await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const bProvider = await createProvider(ts, { name: 'b-fake', base_url: upstream.url }, b);
  await createModel(
    ts,
    {
      name: 'b-rerank',
      type: 'rerank',
      targets: [{ provider_id: bProvider, upstream_model: 'fake-rerank' }],
    },
    b,
  );
  const bProject = (await b.get('/api/v1/projects')).body.data[0].id;
  other = openai(ts, await createKey(ts, { project_id: bProject }, b));

  const ids: string[] = [];
  for (const [i, text] of DOCS.entries())
    ids.push(
      (
        await client.files.create({
          file: await toFile(Buffer.from(text), `d${i}.txt`),
          purpose: 'assistants',
        })
      ).id,
    );
  storeId = (
    await client.vectorStores.create({
      name: 'harbor',
      file_ids: ids,
      ...({ retrieval: { rerank_model: 'rerank' } } as object),
    })
  ).id;
  await until(
    async () => (await client.vectorStores.retrieve(storeId)).file_counts.completed === DOCS.length,
    60_000,
    'ingestion',
  );
}, 90_000);
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
  llama?.closeAllConnections();
  await new Promise((r) => llama?.close(r));
});

describe('search with a rerank model', () => {
  it("re-scores the hybrid candidates with the store's rerank model, metered to the key", async () => {
    upstream.clearRequests();
    const { data: page, response } = await client.vectorStores
      .search(storeId, { query: QUERY, max_num_results: 3 })
      .withResponse();
    const hits = page.data as Hit[];
    expect(hits).toHaveLength(3);
    const call = upstream.requests.find((r) => r.path === '/v1/rerank')!;
    expect(call.body).toMatchObject({ model: 'fake-rerank', query: QUERY });
    expect((call.body.documents as string[]).length).toBe(DOCS.length);
    for (const [i, h] of hits.entries()) {
      expect(h.score_breakdown.rerank).toBe(h.score);
      expect(h.score_breakdown.rerank_rank).toBe(i + 1);
      expect(h.score_breakdown.dense).not.toBeNull();
    }
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    // the two passages with all three words lead
    expect(
      hits
        .slice(0, 2)
        .map((h) => h.filename)
        .sort(),
    ).toEqual(['d0.txt', 'd2.txt']);
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('takes a rerank model as ranking_options.ranker; logits become 0..1 scores', async () => {
    const before = llamaCalls;
    const page = await client.vectorStores.search(storeId, {
      query: QUERY,
      ranking_options: { ranker: 'rerank-logits' as never },
    });
    expect(llamaCalls).toBe(before + 1);
    const hits = page.data as Hit[];
    expect(hits.length).toBe(DOCS.length);
    for (const h of hits) {
      const raw = overlapLogit(QUERY, (h.content[0] as { text: string }).text);
      expect(h.score_breakdown.rerank).toBeCloseTo(raw, 6);
      expect(h.score).toBeCloseTo(1 / (1 + Math.exp(-raw)), 6);
    }
    expect(hits.at(-1)!.filename).toBe('d3.txt');
    // a threshold keeps its 0..1 meaning
    const kept = await client.vectorStores.search(storeId, {
      query: QUERY,
      ranking_options: { ranker: 'rerank-logits' as never, score_threshold: 0.9 },
    });
    expect(kept.data.map((h) => h.filename).sort()).toEqual(['d0.txt', 'd2.txt']);
  });

  it('does not rerank with ranker none', async () => {
    upstream.clearRequests();
    const page = await client.vectorStores.search(storeId, {
      query: QUERY,
      ranking_options: { ranker: 'none' },
    });
    expect((page.data[0] as Hit).score_breakdown.rerank).toBeNull();
    expect(upstream.requests.some((r) => r.path === '/v1/rerank')).toBe(false);
  });

  it('meters the rerank call to the key that searched', async () => {
    const meter = await issueKey(ts);
    const res = await v1(ts, meter.key, `/vector_stores/${storeId}/search`, { query: QUERY });
    expect(res.status).toBe(200);
    const rows = await usageOfKey(ts, meter.id, 2);
    expect(rows.map((r) => r.endpoint).sort()).toEqual(['embeddings', 'rerank']);
    const rerank = rows.find((r) => r.endpoint === 'rerank')!;
    expect(rerank).toMatchObject({ outcome: 'success', modelName: 'rerank', upstreamModel: 'fake-rerank' });
    expect(rerank.promptTokens).toBeGreaterThan(0);
  });
});

describe('rerank settings and calls of a hostile tenant', () => {
  it("refuses another org's rerank model and a model of another type as a store setting", async () => {
    const foreign = await v1(ts, key, '/vector_stores', {
      name: 'x',
      retrieval: { rerank_model: 'b-rerank' },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'retrieval.rerank_model',
    });
    const wrongType = await v1(ts, key, `/vector_stores/${storeId}`, {
      retrieval: { rerank_model: 'embed' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.param).toBe('retrieval.rerank_model');
    // the store kept its setting
    const store = await v1(ts, key, `/vector_stores/${storeId}`);
    expect(store.body.retrieval.rerank_model).toBe('rerank');
  });

  it('refuses a search whose rerank model the key may not use, or another org’s: 404 as the gateway answers', async () => {
    upstream.clearRequests();
    const limited = await v1(ts, limitedKey, `/vector_stores/${storeId}/search`, { query: QUERY });
    expect(limited.status).toBe(404);
    expect(limited.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'ranking_options.ranker',
    });
    expect(upstream.requests.some((r) => r.path === '/v1/rerank')).toBe(false);
    const foreign = await v1(ts, key, `/vector_stores/${storeId}/search`, {
      query: QUERY,
      ranking_options: { ranker: 'b-rerank' },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.param).toBe('ranking_options.ranker');
    const notRerank = await v1(ts, key, `/vector_stores/${storeId}/search`, {
      query: QUERY,
      ranking_options: { ranker: 'embed' },
    });
    expect(notRerank.status).toBe(400);
    await expect(other.vectorStores.search(storeId, { query: QUERY })).rejects.toMatchObject({ status: 404 });
  });

  it('refuses /v1/rerank to a key without the model, and a bad body, in OpenAI’s shape', async () => {
    const limited = await v1(ts, limitedKey, '/rerank', { model: 'rerank', query: 'q', documents: ['a'] });
    expect(limited.status).toBe(404);
    expect(limited.body.error.code).toBe('model_not_found');
    const bad = await v1(ts, key, '/rerank', { model: 'rerank', documents: ['a'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', param: 'query' });
    const foreign = await v1(ts, key, '/rerank', { model: 'b-rerank', query: 'q', documents: ['a'] });
    expect(foreign.status).toBe(404);
  });
});
