import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, sleep, usageOf } from './support/gateway-setup.ts';

/**
 * The response cache on /v1 with the openai SDK (in-process store; Redis when MAAS_TEST_REDIS_URL
 * is set): hits and misses, `cache-control: no-cache | no-store`, `x-maas-cache-ttl`, a cached
 * answer replayed as a stream, hits metered as `cache_hit` at the hit price, answers never shared
 * between orgs unless a platform admin opts the model in.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let modelId: string;
let client: OpenAI;
const chats = () => upstream.requests.filter((r) => r.path === '/v1/chat/completions').length;

async function call(c: OpenAI, content: string, model = 'cached', headers: Record<string, string> = {}) {
  const { data, response } = await c.chat.completions
    .create({ model, messages: [{ role: 'user', content }] }, { headers })
    .withResponse();
  return {
    data,
    cache: response.headers.get('x-maas-cache'),
    requestId: response.headers.get('x-request-id')!,
  };
}

beforeAll(async () => {
  ts = await startTestServer({ MAAS_METRICS_TOKEN: 'cache-metrics-token-0123' });
  upstream = await startFakeUpstream({ chunks: 4 });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  modelId = await createModel(ts, {
    name: 'cached',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  const price = await ts.admin.post('/api/v1/prices', {
    model_id: modelId,
    currency: 'USD',
    input_per_million: 1000,
    output_per_million: 2000,
    effective_from: '2026-01-01T00:00:00Z',
  });
  expect(price.status).toBe(201);
  const on = await ts.admin.request('PUT', `/api/v1/models/${modelId}/cache`, { enabled: true, ttl_s: 120 });
  expect(on.status).toBe(200);
  expect(on.body).toMatchObject({
    enabled: true,
    ttl_s: 120,
    hit_price_percent: 0,
    shared_across_orgs: false,
  });
  client = openai(ts, await createKey(ts));
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('hits and misses', () => {
  it('answers the same body from the cache (whatever `user` says) and meters the hit as a hit', async () => {
    const before = chats();
    const first = await call(client, 'remember this answer');
    expect(first.cache).toBe('miss');
    const { data, response } = await client.chat.completions
      .create({
        model: 'cached',
        user: 'someone-else',
        messages: [{ role: 'user', content: 'remember this answer' }],
      })
      .withResponse();
    expect(response.headers.get('x-maas-cache')).toBe('hit');
    expect(data).toEqual(first.data);
    expect(chats()).toBe(before + 1);
    const [miss, hit] = await usageOf(ts, [first.requestId, response.headers.get('x-request-id')!]).then(
      (rows) => rows.sort((a) => (a.requestId === first.requestId ? -1 : 1)),
    );
    expect(miss).toMatchObject({ outcome: 'success' });
    expect(miss!.costNanos).toBeGreaterThan(0);
    expect(hit).toMatchObject({
      outcome: 'cache_hit',
      promptTokens: 0,
      completionTokens: 0,
      costNanos: 0,
      attempts: 0,
    });
    expect(hit!.rawUsage).toMatchObject({ prompt_tokens: miss!.promptTokens });
  });

  it('replays a cached answer as a stream', async () => {
    const first = await call(client, 'stream me later');
    const before = chats();
    const stream = await client.chat.completions.create({
      model: 'cached',
      stream: true,
      messages: [{ role: 'user', content: 'stream me later' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(first.data.choices[0]!.message.content);
    expect(chats()).toBe(before);
  });

  it('honours cache-control no-cache and no-store, and x-maas-cache-ttl', async () => {
    await call(client, 'fresh please');
    const before = chats();
    expect((await call(client, 'fresh please', 'cached', { 'cache-control': 'no-cache' })).cache).toBe(
      'miss',
    );
    expect(chats()).toBe(before + 1);
    expect((await call(client, 'never keep', 'cached', { 'cache-control': 'no-store' })).cache).toBe('miss');
    expect((await call(client, 'never keep')).cache).toBe('miss');
    expect((await call(client, 'short lived', 'cached', { 'x-maas-cache-ttl': '1' })).cache).toBe('miss');
    await sleep(1_500);
    expect((await call(client, 'short lived')).cache).toBe('miss');
    const bad = await client.chat.completions
      .create(
        { model: 'cached', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-maas-cache-ttl': 'soon' } },
      )
      .catch((e) => e);
    expect(bad.status).toBe(400);
  });

  it('prices a hit at the configured share of the answer', async () => {
    await ts.admin.request('PUT', `/api/v1/models/${modelId}/cache`, { hit_price_percent: 50 });
    const miss = await call(client, 'half price');
    const hit = await call(client, 'half price');
    expect(hit.cache).toBe('hit');
    const rows = await usageOf(ts, [miss.requestId, hit.requestId]);
    const cost = (id: string) => rows.find((r) => r.requestId === id)!.costNanos;
    expect(cost(hit.requestId)).toBe(Math.round(cost(miss.requestId) / 2));
    await ts.admin.request('PUT', `/api/v1/models/${modelId}/cache`, { hit_price_percent: 0 });
  });

  it('exports hits, misses and bytes to Prometheus', async () => {
    const text = await (
      await fetch(`${ts.url}/metrics`, { headers: { authorization: 'Bearer cache-metrics-token-0123' } })
    ).text();
    expect(text).toMatch(/maas_response_cache_hits_total\{model="cached"\} [1-9]/);
    expect(text).toMatch(/maas_response_cache_misses_total\{model="cached"\} [1-9]/);
    expect(text).toMatch(/maas_response_cache_stored_bytes_total\{model="cached"\} [1-9]/);
  });
});

describe('orgs', () => {
  let guest: ApiClient;
  let guestClient: OpenAI;
  beforeAll(async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Cache Guest' });
    guest = ts.client();
    await guest.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const project = (await guest.get('/api/v1/projects')).body.data[0].id;
    guestClient = openai(ts, await createKey(ts, { project_id: project }, guest));
    const offer = await ts.admin.post(`/api/v1/models/${modelId}/shares`, { org_id: org.body.id });
    expect((await guest.post(`/api/v1/model-shares/${offer.body.id}/accept`)).status).toBeLessThan(300);
  });

  it("never answers one org from another org's cache, until a platform admin shares the model's answers", async () => {
    const mine = await call(client, 'org secret answer');
    expect((await call(client, 'org secret answer')).cache).toBe('hit');
    const before = chats();
    const theirs = await call(guestClient, 'org secret answer', 'default/cached');
    expect(theirs.cache).toBe('miss');
    expect(chats()).toBe(before + 1);
    expect(theirs.data.id).not.toBe(mine.data.id);

    const shared = await ts.admin.request('PUT', `/api/v1/models/${modelId}/cache`, {
      shared_across_orgs: true,
    });
    expect(shared.body.shared_across_orgs).toBe(true);
    const first = await call(client, 'public answer');
    const other = await call(guestClient, 'public answer', 'default/cached');
    expect(other.cache).toBe('hit');
    expect(other.data.id).toBe(first.data.id);
    await ts.admin.request('PUT', `/api/v1/models/${modelId}/cache`, { shared_across_orgs: false });
  });

  it("lets no other org read or change a model's cache settings, and only platform admins share answers", async () => {
    expect((await guest.get(`/api/v1/models/${modelId}/cache`)).status).toBe(404);
    expect((await guest.request('PUT', `/api/v1/models/${modelId}/cache`, { enabled: false })).status).toBe(
      404,
    );
    const operator = await ts.admin.post('/api/v1/keys', {
      name: 'ops',
      project_id: (await ts.admin.get('/api/v1/projects')).body.data[0].id,
      scopes: ['admin:write'],
    });
    const asKey = ts.client(operator.body.key);
    const refused = await asKey.request('PUT', `/api/v1/models/${modelId}/cache`, {
      shared_across_orgs: true,
    });
    expect(refused.status).toBe(403);
    expect((await asKey.request('PUT', `/api/v1/models/${modelId}/cache`, { ttl_s: 0 })).status).toBe(400);
    const audit = await ts.admin.get(`/api/v1/audit-events?action=model.cache.update&target=${modelId}`);
    expect(audit.body.data.length).toBeGreaterThan(0);
  });
});
