import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatLine,
  jsonl,
  readJsonl,
  uploadBatchFile,
  upstreamCounts,
  usageRowsOfKey,
  waitForBatch,
} from './support/batch-setup.ts';
import { createModel, createProvider, issueKey, openai, until } from './support/gateway-setup.ts';

/** /v1/batches end to end with the stock openai SDK, a real server and a fake upstream. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let keyId: string;
let modelId: string;
/** webhook events received on loopback, and the batch each test expects an event for */
let receiver: Server;
const received: { body: string; headers: IncomingHttpHeaders }[] = [];
let webhookSecret: string;
const expectedEvents: [string, string][] = [];

beforeAll(async () => {
  ts = await startTestServer({ MAAS_BATCH_POLL_MS: '50', MAAS_BATCH_CONCURRENCY: '4' });
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret', chunks: 3 });
  const provider = await createProvider(ts, {
    name: 'fake',
    base_url: upstream.url,
    api_key: 'upstream-secret',
  });
  modelId = await createModel(ts, {
    name: 'chat-small',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  await createModel(ts, {
    name: 'chat-other',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  const res = await ts.admin.post('/api/v1/prices', {
    model_id: modelId,
    currency: 'USD',
    input_per_million: 1000,
    output_per_million: 2000,
    batch_discount_percent: 50,
  });
  expect(res.status).toBe(201);
  const k = await issueKey(ts);
  keyId = k.id;
  client = openai(ts, k.key);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = await ts.admin.post('/api/v1/webhook-endpoints', {
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
    events: ['batch.*'],
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  webhookSecret = hook.body.secret;
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
  receiver?.closeAllConnections();
  receiver?.close();
});

describe('a batch from upload to output', () => {
  it('answers every custom_id exactly once, in the output or the error file, metered per line at the batch price', async () => {
    upstream.clearRequests();
    const lines = Array.from({ length: 40 }, (_, i) => chatLine(`req-${i}`));
    // refused by the gateway's own validation: answered with a 400 in the error file
    lines.push({ ...chatLine('bad-1'), body: { model: 'chat-small', messages: 'not a list' } });
    const fileId = await uploadBatchFile(client, jsonl(lines));
    const created = await client.batches.create({
      input_file_id: fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 'e2e' },
    });
    expect(created).toMatchObject({
      object: 'batch',
      endpoint: '/v1/chat/completions',
      input_file_id: fileId,
      completion_window: '24h',
      status: 'validating',
      metadata: { run: 'e2e' },
      request_counts: { total: 0, completed: 0, failed: 0 },
    });
    expect(created.id).toMatch(/^batch_/);
    expect(created.expires_at! - created.created_at).toBe(86_400);

    const done = await waitForBatch(client, created.id);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 41, completed: 40, failed: 1 });
    expect(done.model).toBe('chat-small');
    for (const t of ['in_progress_at', 'finalizing_at', 'completed_at'] as const)
      expect(done[t]).toEqual(expect.any(Number));
    expect(done.usage!.input_tokens).toBeGreaterThan(0);

    const output = await readJsonl(client, done.output_file_id);
    const errors = await readJsonl(client, done.error_file_id);
    expect(output).toHaveLength(40);
    expect(new Set(output.map((l) => l.custom_id)).size).toBe(40);
    for (const l of output) {
      expect(l.id).toMatch(/^batch_req_/);
      expect(l.error).toBeNull();
      expect(l.response).toMatchObject({ status_code: 200, request_id: expect.stringMatching(/^req_/) });
      expect(l.response.body).toMatchObject({ object: 'chat.completion' });
    }
    expect(errors).toEqual([
      expect.objectContaining({
        custom_id: 'bad-1',
        response: expect.objectContaining({ status_code: 400 }),
        error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
      }),
    ]);
    // each line reached the upstream once
    const counts = upstreamCounts(upstream);
    expect(counts.size).toBe(40);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // usage rows = lines answered, each priced at half the price
    const rows = await usageRowsOfKey(ts, keyId);
    const ids = new Set(output.map((l) => l.response.request_id));
    const batchRows = rows.filter((r) => ids.has(r.requestId));
    expect(batchRows).toHaveLength(40);
    for (const r of batchRows) {
      const full = r.promptTokens * 1_000_000 + r.completionTokens * 2_000_000;
      expect(r.costNanos).toBe(Math.round(full / 2));
    }
    expect(rows.filter((r) => r.requestId === errors[0].response.request_id)).toHaveLength(1);

    expectedEvents.push(['batch.completed', created.id]);
    const listed = await client.batches.list({ limit: 10 });
    expect(listed.data.map((b) => b.id)).toContain(created.id);
  });
});

describe('line-level validation', () => {
  it("fails the batch with OpenAI's codes and line numbers", async () => {
    const text = jsonl([
      chatLine('a'),
      '{not json',
      chatLine('a'),
      { ...chatLine('c'), url: '/v1/embeddings' },
      { ...chatLine('d'), url: '/v1/nope' },
      { ...chatLine('e'), method: 'GET' },
      { custom_id: 'f', method: 'POST', url: '/v1/chat/completions', body: { messages: [] } },
      chatLine('g', 'chat-other'),
    ]);
    const b = await client.batches.create({
      input_file_id: await uploadBatchFile(client, text),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const done = await waitForBatch(client, b.id);
    expect(done.status).toBe('failed');
    expect(done.failed_at).toEqual(expect.any(Number));
    expect(done.errors!.object).toBe('list');
    expectedEvents.push(['batch.failed', b.id]);
    expect(done.errors!.data!.map((e) => [e.code, e.line])).toEqual([
      ['invalid_json_line', 2],
      ['duplicate_custom_id', 3],
      ['mismatched_endpoint', 4],
      ['invalid_url', 5],
      ['invalid_method', 6],
      ['missing_required_parameter', 7],
      ['mismatched_model', 8],
    ]);
  });

  it('refuses an empty file, and bad create parameters with a 400', async () => {
    const b = await client.batches.create({
      input_file_id: await uploadBatchFile(client, '\n'),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const done = await waitForBatch(client, b.id);
    expect(done.errors!.data!.map((e) => e.code)).toEqual(['empty_file']);
    const fileId = await uploadBatchFile(client, jsonl([chatLine('x')]));
    await expect(
      client.batches.create({
        input_file_id: fileId,
        endpoint: '/v1/images' as never,
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'endpoint' });
    await expect(
      client.batches.create({
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '1h' as never,
      }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('budget', () => {
  it("refuses a batch whose estimate does not fit the key's budget before any line runs", async () => {
    const k = await issueKey(ts, { name: 'small-budget' });
    const res = await ts.admin.post('/api/v1/limits', {
      scope: 'key',
      scope_id: k.id,
      budget: 0.01,
      budget_period: 'month',
    });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 300)); // the policy cache reloads on the push
    const c = openai(ts, k.key);
    upstream.clearRequests();
    const lines = Array.from({ length: 20 }, (_, i) => ({
      ...chatLine(`budget-${i}`),
      body: { model: 'chat-small', messages: [{ role: 'user', content: 'x' }], max_tokens: 1000 },
    }));
    const b = await c.batches.create({
      input_file_id: await uploadBatchFile(c, jsonl(lines)),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const done = await waitForBatch(c, b.id);
    expect(done.status).toBe('failed');
    expect(done.errors!.data!.map((e) => e.code)).toEqual(['insufficient_quota']);
    expect(upstreamCounts(upstream).size).toBe(0);
  });
});

describe('budget held by a running batch', () => {
  it('other traffic cannot spend what the batch holds; lines settle at the batch price; the hold ends with the batch', async () => {
    const k = await issueKey(ts, { name: 'held-budget' });
    const policy = await ts.admin.post('/api/v1/limits', {
      scope: 'key',
      scope_id: k.id,
      budget: 10,
      budget_period: 'month',
    });
    expect(policy.status).toBe(201);
    await new Promise((r) => setTimeout(r, 300)); // the policy cache reloads on the push
    const c = openai(ts, k.key);
    // each line may generate 250 tokens: $0.50 at the list price, $0.25 at the batch price (50 % off);
    // the batch holds 36 × $0.25 = $9 (less as its lines are answered), its four lines in flight
    // reserve $1 more
    const lines = Array.from({ length: 36 }, (_, i) => ({
      ...chatLine(`held-${i}`),
      body: { model: 'chat-small', messages: [{ role: 'user', content: 'x' }], max_tokens: 250 },
    }));
    // a live request that may generate 2,000 tokens reserves $4: it fits beside the lines in flight,
    // not beside what the batch holds
    const live = () =>
      c.chat.completions.create({
        model: 'chat-small',
        messages: [{ role: 'user', content: 'y' }],
        max_tokens: 2000,
      });
    upstream.setOptions({ latencyMs: 1000 });
    try {
      const b = await c.batches.create({
        input_file_id: await uploadBatchFile(c, jsonl(lines)),
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      await until(async () => (await c.batches.retrieve(b.id)).status === 'in_progress', 10_000);
      const refused = await live().then(
        () => null,
        (err: { status?: number; code?: string; message?: string }) => err,
      );
      expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
      // the message states the real budget and what the batch holds of it
      expect(refused!.message).toMatch(/the budget per month of key \S+ is 10; .* held by running batches/);
      const during = await ts.admin.get(`/api/v1/limits/${policy.body.id}/usage`);
      const heldBudget = during.body.counters.find((x: { dimension: string }) => x.dimension === 'budget');
      expect(heldBudget.held).toBeGreaterThan(0);
      const { used, reserved, held, remaining } = heldBudget;
      expect(remaining).toBeCloseTo(Math.max(0, 10 - used - reserved - held), 6);
      upstream.setOptions({ latencyMs: 0 });
      const done = await waitForBatch(c, b.id);
      expect(done.status).toBe('completed');
      // the hold is gone with the batch: the same request fits now
      const answer = await live();
      expect(answer.choices[0]!.message.content).toEqual(expect.any(String));
      // budgets were charged what the usage rows say: the batch lines at the batch price
      const rows = (await usageRowsOfKey(ts, k.id)).filter((r) => r.outcome === 'success');
      expect(rows).toHaveLength(37);
      const list = (r: (typeof rows)[number]) => (r.promptTokens * 1000 + r.completionTokens * 2000) * 1000;
      const lineRows = rows.filter((r) => r.costNanos !== list(r));
      expect(lineRows).toHaveLength(36);
      for (const r of lineRows) expect(r.costNanos).toBe(Math.round(list(r) / 2));
      const billed = rows.reduce((sum, r) => sum + r.costNanos, 0) / 1e9;
      const usage = await ts.admin.get(`/api/v1/limits/${policy.body.id}/usage`);
      const budget = usage.body.counters.find((x: { dimension: string }) => x.dimension === 'budget');
      expect(budget.used).toBeCloseTo(billed, 5);
    } finally {
      upstream.setOptions({ latencyMs: 0 });
    }
  });
});

describe('a key revoked mid-batch', () => {
  it('stops spending: the lines not yet run fail with invalid_api_key and never reach the upstream', async () => {
    const k = await issueKey(ts, { name: 'revoked-mid-batch' });
    const c = openai(ts, k.key);
    upstream.setOptions({ latencyMs: 200 });
    try {
      const lines = Array.from({ length: 40 }, (_, i) => chatLine(`revoke-${i}`));
      const b = await c.batches.create({
        input_file_id: await uploadBatchFile(c, jsonl(lines)),
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      await until(async () => (await c.batches.retrieve(b.id)).request_counts!.completed >= 4, 10_000);
      expect((await ts.admin.delete(`/api/v1/keys/${k.id}`)).status).toBeLessThan(300);
      upstream.setOptions({ latencyMs: 0 });
      // the owner still sees the batch through the admin API's view of the project: poll as another key
      const reader = openai(ts, (await issueKey(ts, { name: 'reader' })).key);
      const done = await waitForBatch(reader, b.id);
      expect(done.status).toBe('completed');
      const output = await readJsonl(reader, done.output_file_id);
      const errors = await readJsonl(reader, done.error_file_id);
      expect(output.length + errors.length).toBe(40);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => e.error.code === 'invalid_api_key' && e.response.status_code === 401)).toBe(
        true,
      );
      // billed: exactly the lines answered before the revocation
      const rows = await usageRowsOfKey(ts, k.id);
      expect(rows).toHaveLength(output.length);
    } finally {
      upstream.setOptions({ latencyMs: 0 });
    }
  });
});

describe('cancel', () => {
  it('cancelling → cancelled, finished lines kept in the output file', async () => {
    upstream.setOptions({ latencyMs: 100 });
    try {
      const lines = Array.from({ length: 60 }, (_, i) => chatLine(`cancel-${i}`));
      const b = await client.batches.create({
        input_file_id: await uploadBatchFile(client, jsonl(lines)),
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      await until(async () => (await client.batches.retrieve(b.id)).request_counts!.completed >= 4, 10_000);
      const cancelling = await client.batches.cancel(b.id);
      expect(cancelling.status).toBe('cancelling');
      expect(cancelling.cancelling_at).toEqual(expect.any(Number));
      const done = await waitForBatch(client, b.id);
      expect(done.status).toBe('cancelled');
      expectedEvents.push(['batch.cancelled', b.id]);
      const output = await readJsonl(client, done.output_file_id);
      const errors = await readJsonl(client, done.error_file_id);
      expect(output.length).toBe(done.request_counts!.completed);
      expect(output.length).toBeGreaterThanOrEqual(4);
      expect(output.length).toBeLessThan(60);
      expect(output.length + errors.length).toBe(60);
      expect(errors.every((e) => e.error.code === 'batch_cancelled')).toBe(true);
      await expect(client.batches.cancel('batch_nope')).rejects.toMatchObject({ status: 404 });
    } finally {
      upstream.setOptions({ latencyMs: 0 });
    }
  });
});

describe('another tenant', () => {
  it('sees none of my batches and cannot use my file', async () => {
    const fileId = await uploadBatchFile(client, jsonl([chatLine('mine')]));
    const b = await client.batches.create({
      input_file_id: fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const org = await ts.admin.post('/api/v1/orgs', { name: 'hostile' });
    expect(org.status).toBe(201);
    const b2 = ts.client();
    await b2.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const project = await b2.post('/api/v1/projects', { name: 'hostile-project' });
    const other = await b2.post('/api/v1/keys', {
      name: 'hostile',
      project_id: project.body.id,
      scopes: ['inference'],
    });
    expect(other.status).toBe(201);
    const hostile = new OpenAI({ apiKey: other.body.key, baseURL: `${ts.url}/v1`, maxRetries: 0 });
    await expect(hostile.batches.retrieve(b.id)).rejects.toMatchObject({ status: 404 });
    await expect(hostile.batches.cancel(b.id)).rejects.toMatchObject({ status: 404 });
    expect((await hostile.batches.list()).data).toEqual([]);
    await expect(
      hostile.batches.create({
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 404 });
    await waitForBatch(client, b.id);
  });
});

describe('the completion window', () => {
  it('expires: finished lines in the output (billed), the rest batch_expired in the error file', async () => {
    const short = await startTestServer({
      MAAS_BATCH_POLL_MS: '50',
      MAAS_BATCH_CONCURRENCY: '1',
      MAAS_BATCH_WINDOW_S: '4',
    });
    const slow = await startFakeUpstream({ latencyMs: 150 });
    try {
      const provider = await createProvider(short, { name: 'slow', base_url: slow.url });
      await createModel(short, {
        name: 'chat-small',
        targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
      });
      const k = await issueKey(short);
      const c = openai(short, k.key);
      const lines = Array.from({ length: 50 }, (_, i) => chatLine(`exp-${i}`));
      const b = await c.batches.create({
        input_file_id: await uploadBatchFile(c, jsonl(lines)),
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      const done = await waitForBatch(c, b.id, 20_000);
      expect(done.status).toBe('expired');
      expect(done.expired_at).toEqual(expect.any(Number));
      const output = await readJsonl(c, done.output_file_id);
      const errors = await readJsonl(c, done.error_file_id);
      expect(output.length).toBeGreaterThan(0);
      expect(output.length + errors.length).toBe(50);
      expect(errors.every((e) => e.error.code === 'batch_expired' && e.response === null)).toBe(true);
      const rows = await usageRowsOfKey(short, k.id);
      expect(rows).toHaveLength(output.length);
      expect(done.request_counts).toEqual({ total: 50, completed: output.length, failed: errors.length });
    } finally {
      await short.close();
      await slow.close();
    }
  });
});

describe('webhooks', () => {
  it('sends batch.completed, batch.failed and batch.cancelled once each, signed so the SDK verifies them', async () => {
    const verifier = new OpenAI({ apiKey: 'x', webhookSecret });
    const events = await until(
      async () => {
        const got = await Promise.all(
          received.map((r) => verifier.webhooks.unwrap(r.body, r.headers as Record<string, string>)),
        );
        return got.length >= expectedEvents.length ? got : null;
      },
      15_000,
      'batch webhook events',
    );
    const seen = events.map((e) => [e.type, (e.data as { id: string }).id]);
    for (const want of expectedEvents)
      expect(seen.filter((s) => s[0] === want[0] && s[1] === want[1])).toHaveLength(1);
  });
});
