import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createProvider, openai } from './support/gateway-setup.ts';

/** The model registry: models, versions, canary traffic and rollback, lifecycle, audit. */
let ts: TestServer;
let upstream: FakeUpstream;
let provider: string;
let client: OpenAI;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
  upstream = await startFakeUpstream({ chunks: 2 });
  provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  client = openai(ts, await createKey(ts));
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

const target = (upstream_model: string, extra: Record<string, unknown> = {}) => ({
  provider_id: provider,
  upstream_model,
  ...extra,
});
const ask = (model: string) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();

describe('models', () => {
  it('registers a model with version "1" taking all traffic, and audits it', async () => {
    const res = await ts.admin.post('/api/v1/models', {
      name: 'llama-3-8b',
      type: 'chat',
      aliases: ['llama'],
      description: 'small and quick',
      context_length: 8192,
      pricing: { currency: 'USD', input_per_million: 0.1, output_per_million: 0.2 },
      targets: [target('meta-llama/Llama-3-8B', { weight: 2, priority: 0 })],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^mdl_/),
      name: 'llama-3-8b',
      aliases: ['llama'],
      status: 'active',
      context_length: 8192,
      traffic: { '1': 100 },
      versions: [
        {
          version: '1',
          traffic_weight: 100,
          targets: [
            { provider_id: provider, upstream_model: 'meta-llama/Llama-3-8B', weight: 2, priority: 0 },
          ],
          pricing: { input_per_million: 0.1 },
        },
      ],
    });
    expect((await ts.admin.get(`/api/v1/models/${res.body.id}`)).body.name).toBe('llama-3-8b');
    expect((await ts.admin.get('/api/v1/models')).body.data.map((m: { id: string }) => m.id)).toContain(
      res.body.id,
    );
    const audit = await ts.admin.get(`/api/v1/audit-events?target=${res.body.id}`);
    expect(audit.body.data[0]).toMatchObject({ action: 'model.create', target_type: 'model' });
    const { response } = await ask('llama');
    expect(response.headers.get('x-maas-target')).toBe('fake/meta-llama/Llama-3-8B');
  });

  it('refuses unknown providers, taken names and self fallbacks', async () => {
    const base = { type: 'chat', targets: [target('m')] };
    expect(
      (
        await ts.admin.post('/api/v1/models', {
          ...base,
          name: 'x1',
          targets: [{ provider_id: 'prv_nope', upstream_model: 'm' }],
        })
      ).status,
    ).toBe(422);
    expect((await ts.admin.post('/api/v1/models', { ...base, name: 'llama' })).status).toBe(409);
    expect(
      (await ts.admin.post('/api/v1/models', { ...base, name: 'x2', aliases: ['llama-3-8b'] })).status,
    ).toBe(409);
    expect((await ts.admin.post('/api/v1/models', { ...base, name: 'x3', fallbacks: ['x3'] })).status).toBe(
      422,
    );
    expect((await ts.admin.post('/api/v1/models', { ...base, name: 'x4', targets: [] })).status).toBe(400);
    expect((await ts.admin.post('/api/v1/models', { ...base, name: 'bad name!' })).status).toBe(400);
  });

  it('applies a rename at once, without restart', async () => {
    const id = (
      await ts.admin.post('/api/v1/models', { name: 'before', type: 'chat', targets: [target('r')] })
    ).body.id;
    expect((await ask('before')).data.object).toBe('chat.completion');
    expect((await ts.admin.patch(`/api/v1/models/${id}`, { name: 'after' })).status).toBe(200);
    await expect(ask('before')).rejects.toMatchObject({ status: 404 });
    expect((await ask('after')).data.object).toBe('chat.completion');
  });
});

describe('versions and traffic', () => {
  let id: string;
  const servedBy = async (n: number) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const { response } = await ask('canary');
      const t = response.headers.get('x-maas-target')!;
      counts[t] = (counts[t] ?? 0) + 1;
    }
    return counts;
  };

  beforeAll(async () => {
    id = (
      await ts.admin.post('/api/v1/models', { name: 'canary', type: 'chat', targets: [target('stable')] })
    ).body.id;
  });

  it('adds a version that gets no traffic until weights move, then splits by weight', async () => {
    const v2 = await ts.admin.post(`/api/v1/models/${id}/versions`, {
      targets: [target('candidate')],
      pricing: { input_per_million: 1, output_per_million: 2 },
    });
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ version: '2', traffic_weight: 0 });
    expect(
      (await ts.admin.get(`/api/v1/models/${id}/versions`)).body.data.map(
        (v: { version: string }) => v.version,
      ),
    ).toEqual(['1', '2']);
    expect(await servedBy(10)).toEqual({ 'fake/stable': 10 });

    const split = await ts.admin.request('PUT', `/api/v1/models/${id}/traffic`, {
      weights: { '1': 50, '2': 50 },
    });
    expect(split.status).toBe(200);
    expect(split.body.traffic).toEqual({ '1': 50, '2': 50 });
    const counts = await servedBy(60);
    expect(counts['fake/stable']).toBeGreaterThan(10);
    expect(counts['fake/candidate']).toBeGreaterThan(10);
  });

  it('rolls back by moving the weight back, and audits every move', async () => {
    const back = await ts.admin.request('PUT', `/api/v1/models/${id}/traffic`, { weights: { '1': 100 } });
    expect(back.body.traffic).toEqual({ '1': 100, '2': 0 });
    expect(await servedBy(10)).toEqual({ 'fake/stable': 10 });
    const audit = await ts.admin.get(`/api/v1/audit-events?target=${id}&action=model.traffic.set`);
    expect(audit.body.data.map((e: { after: unknown }) => e.after)).toEqual([
      { '1': 100, '2': 0 },
      { '1': 50, '2': 50 },
    ]);
    expect(audit.body.data[0].before).toEqual({ '1': 50, '2': 50 });
  });

  it('refuses traffic to unknown versions or to nothing', async () => {
    expect(
      (await ts.admin.request('PUT', `/api/v1/models/${id}/traffic`, { weights: { '7': 10 } })).status,
    ).toBe(422);
    expect(
      (await ts.admin.request('PUT', `/api/v1/models/${id}/traffic`, { weights: { '1': 0 } })).status,
    ).toBe(422);
    expect(
      (await ts.admin.post(`/api/v1/models/${id}/versions`, { version: '1', targets: [target('dup')] }))
        .status,
    ).toBe(409);
    expect((await ts.admin.post(`/api/v1/models/${id}/versions`, { targets: [] })).status).toBe(422);
  });

  it('changes a version’s targets in place', async () => {
    const res = await ts.admin.patch(`/api/v1/models/${id}/versions/1`, { targets: [target('stable-v2')] });
    expect(res.status).toBe(200);
    expect(await servedBy(3)).toEqual({ 'fake/stable-v2': 3 });
    expect((await ts.admin.patch(`/api/v1/models/${id}/versions/9`, { pricing: null })).status).toBe(404);
  });
});

describe('lifecycle', () => {
  it('goes active → deprecated → retired, audited, served with a warning and then refused', async () => {
    const id = (
      await ts.admin.post('/api/v1/models', { name: 'aging', type: 'chat', targets: [target('a')] })
    ).body.id;
    await ts.admin.patch(`/api/v1/models/${id}`, { status: 'deprecated' });
    const { response } = await ask('aging');
    expect(response.headers.get('x-maas-deprecated')).toBe('true');
    await ts.admin.patch(`/api/v1/models/${id}`, { status: 'retired' });
    await expect(ask('aging')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    const actions = (await ts.admin.get(`/api/v1/audit-events?target=${id}`)).body.data.map(
      (e: { action: string }) => e.action,
    );
    expect(actions).toEqual(['model.retire', 'model.deprecate', 'model.create']);
  });
});
