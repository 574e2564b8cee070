import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, createProvider, issueKey, openai, usageFor, v1 } from './support/gateway-setup.ts';

/**
 * Governance on the /v1 path: limits admit before dispatch and answer 429 in OpenAI's shape with
 * the x-ratelimit headers; each request is priced at the price in effect and lands in usage and bills.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let modelId: string;

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ chunks: 3 });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  modelId = await createModel(ts, {
    name: 'governed',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  const price = await ts.admin.post('/api/v1/prices', {
    model_id: modelId,
    currency: 'USD',
    input_per_million: 2,
    output_per_million: 8,
    effective_from: '2026-01-01T00:00:00Z',
  });
  expect(price.status).toBe(201);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('rate limits on /v1', () => {
  it('admits exactly the RPM and then answers 429 rate_limit_exceeded with Retry-After and x-ratelimit headers', async () => {
    const { id, key } = await issueKey(ts, { name: 'rpm-key' });
    const limit = await ts.admin.post('/api/v1/limits', { scope: 'key', scope_id: id, rpm: 3 });
    expect(limit.status).toBe(201);
    await new Promise((r) => setTimeout(r, 100));
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof v1>> | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await v1(ts, key, '/chat/completions', {
        model: 'governed',
        messages: [{ role: 'user', content: 'hi' }],
      });
      statuses.push(res.status);
      if (res.status === 200 && i === 0) {
        expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
        expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('2');
      }
      if (res.status === 429) limited ??= res;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited!.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited!.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
  });

  it('surfaces as a RateLimitError in the openai SDK', async () => {
    const { id, key } = await issueKey(ts, { name: 'sdk-key' });
    await ts.admin.post('/api/v1/limits', { scope: 'key', scope_id: id, rpm: 1 });
    await new Promise((r) => setTimeout(r, 100));
    const client = new OpenAI({ apiKey: key, baseURL: `${ts.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'governed', messages: [{ role: 'user', content: 'one' }] });
    await expect(
      client.chat.completions.create({ model: 'governed', messages: [{ role: 'user', content: 'two' }] }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('refuses with insufficient_quota once a budget is spent, without overshooting it', async () => {
    const { id, key } = await issueKey(ts, { name: 'budget-key' });
    const budget = 0.0002; // USD: a handful of tiny requests at 2 / 8 USD per million tokens
    await ts.admin.post('/api/v1/limits', { scope: 'key', scope_id: id, budget, budget_period: 'month' });
    await new Promise((r) => setTimeout(r, 100));
    const served: string[] = [];
    let refusal: Awaited<ReturnType<typeof v1>> | undefined;
    for (let i = 0; i < 40 && !refusal; i++) {
      const res = await v1(ts, key, '/chat/completions', {
        model: 'governed',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'spend' }],
      });
      if (res.status === 200) served.push(res.headers.get('x-request-id')!);
      else refusal = res;
    }
    expect(served.length).toBeGreaterThan(0);
    expect(refusal?.status).toBe(429);
    expect(refusal!.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    let spent = 0;
    for (const requestId of served) spent += (await usageFor(ts, requestId)).costNanos;
    expect(spent / 1e9).toBeLessThanOrEqual(budget);
  });
});

describe('pricing and usage', () => {
  it('prices each request at the price in effect and shows it in usage', async () => {
    const { key } = await issueKey(ts, { name: 'priced-key' });
    const client = openai(ts, key);
    const res = await client.chat.completions
      .create({ model: 'governed', messages: [{ role: 'user', content: 'price me' }] })
      .withResponse();
    const row = await usageFor(ts, res.response.headers.get('x-request-id')!);
    expect(row.currency).toBe('USD');
    expect(row.costNanos).toBe(row.promptTokens * 2000 + row.completionTokens * 8000);
    await ts.server.services.metering.writer.flush();
    const usage = await ts.admin.get('/api/v1/usage?group_by=model&model=governed');
    expect(usage.body.totals[0].cost).toBeGreaterThan(0);
  });
});
