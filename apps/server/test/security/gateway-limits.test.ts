import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  createProvider,
  issueKey,
  openai,
  sleep,
  usageOf,
  v1,
} from '../support/gateway-setup.ts';

/**
 * The hostile tenant and the gateway's limits: limits hold before a model is looked up (a flood of
 * made-up model names is throttled like any traffic and metered as `unknown`, never under the
 * caller's strings), and a fallback hop never gets past the per-model limits of the model it lands on.
 */
let ts: TestServer;
let upstream: FakeUpstream;
const chat = { messages: [{ role: 'user' as const, content: 'hi' }] };

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ chunks: 2 });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'primary',
    targets: [{ provider_id: provider, upstream_model: 'primary' }],
    fallbacks: ['backup'],
  });
  await createModel(ts, {
    name: 'steady',
    targets: [{ provider_id: provider, upstream_model: 'steady' }],
    fallbacks: ['backup'],
  });
  await createModel(ts, { name: 'backup', targets: [{ provider_id: provider, upstream_model: 'backup' }] });
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

async function limit(body: Record<string, unknown>) {
  const res = await ts.admin.post('/api/v1/limits', body);
  expect(res.status).toBe(201);
  await sleep(100);
}

describe('limits come before the model lookup', () => {
  it('answers a flood of unknown models 429 by the key’s RPM and meters each as `unknown`', async () => {
    const { id, key } = await issueKey(ts, { name: 'flooder' });
    await limit({ scope: 'key', scope_id: id, rpm: 5 });
    const statuses: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await v1(ts, key, '/chat/completions', {
        model: `made-up-${i}-${'x'.repeat(100)}`,
        ...chat,
      });
      statuses.push(res.status);
      ids.push(res.headers.get('x-request-id')!);
    }
    expect(statuses).toEqual([...Array(5).fill(404), ...Array(7).fill(429)]);
    const rows = await usageOf(ts, ids);
    expect(new Set(rows.map((r) => r.modelName))).toEqual(new Set(['unknown']));
    expect(rows.filter((r) => r.errorCode === 'rate_limit_exceeded')).toHaveLength(7);
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    // the key's real traffic is held by the same limit
    await expect(
      openai(ts, key).chat.completions.create({ model: 'backup', ...chat }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('holds unknown models by the org’s and the project’s limits too', async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Flood Org' });
    const owner = ts.client();
    await owner.login('admin@localhost', 'admin-password-for-tests', org.body.id);
    const project = (await owner.get('/api/v1/projects')).body.data[0].id;
    expect((await owner.post('/api/v1/limits', { scope: 'project', scope_id: project, rpm: 2 })).status).toBe(
      201,
    );
    await sleep(100);
    const { key } = await issueKey(ts, { project_id: project }, owner);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await v1(ts, key, '/chat/completions', { model: `nope-${i}`, ...chat })).status);
    }
    expect(statuses).toEqual([404, 404, 429, 429]);
  });
});

describe('a fallback hop is admitted against its own model’s limits', () => {
  it('never sends more to the fallback than its per-model RPM allows', async () => {
    const { id, key } = await issueKey(ts, { name: 'fallback-key' });
    await limit({ scope: 'key', scope_id: id, model: 'backup', rpm: 2 });
    upstream.setFaults({ model: 'primary', status: 503 });
    upstream.clearRequests();
    try {
      const results: { status: number; from: string | null }[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await v1(ts, key, '/chat/completions', { model: 'primary', ...chat });
        results.push({ status: res.status, from: res.headers.get('x-maas-fallback-from') });
      }
      expect(results.slice(0, 2)).toEqual([
        { status: 200, from: 'primary' },
        { status: 200, from: 'primary' },
      ]);
      // the hop is skipped: the caller gets the first model's own failure
      expect(results.slice(2).map((r) => r.status)).toEqual([503, 503, 503]);
      expect(upstream.requests.filter((r) => r.body?.model === 'backup')).toHaveLength(2);
      // and a direct call to the fallback model sees the same spent limit
      const direct = await v1(ts, key, '/chat/completions', { model: 'backup', ...chat });
      expect(direct.status).toBe(429);
      expect(upstream.requests.filter((r) => r.body?.model === 'backup')).toHaveLength(2);
    } finally {
      upstream.setFaults(null);
    }
  });

  it('does not count a hop that was never taken against the fallback model', async () => {
    const { id, key } = await issueKey(ts, { name: 'direct-key' });
    await limit({ scope: 'key', scope_id: id, model: 'backup', rpm: 1 });
    // steady works: no hop, backup's limit untouched
    for (let i = 0; i < 3; i++) {
      expect((await v1(ts, key, '/chat/completions', { model: 'steady', ...chat })).status).toBe(200);
    }
    expect((await v1(ts, key, '/chat/completions', { model: 'backup', ...chat })).status).toBe(200);
  });
});
