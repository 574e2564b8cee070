import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  createKey,
  createModel,
  createProvider,
  issueKey,
  openai,
  openaiOwnPool,
  sleep,
  until,
  usageCount,
  usageFor,
  usageOfKey,
  v1,
} from './support/gateway-setup.ts';

/**
 * Faults of real upstreams on real sockets: retries before the first byte, fallbacks by error class,
 * breakers, aborts, cut and malformed streams, and exactly one usage event per request.
 */
let ts: TestServer;
let a: FakeUpstream;
let b: FakeUpstream;
let providerA: string;
let client: OpenAI;
let key: string;
const seen: string[] = [];
const user = (content: string) => [{ role: 'user' as const, content }];

/** keys used for one request each (aborted requests have no response to read an id from) */
const soloKeys: string[] = [];

/** a raw call, its request id remembered for the exactly-once check */
async function call(body: Record<string, unknown>, path = '/chat/completions') {
  const res = await v1(ts, key, path, body);
  const id = res.headers.get('x-request-id')!;
  seen.push(id);
  return { ...res, id };
}

beforeAll(async () => {
  ts = await startTestServer({
    MAAS_BREAKER_FAILURES: '3',
    MAAS_BREAKER_COOLDOWN_MS: '400',
    MAAS_PROBE_INTERVAL_MS: '0',
  });
  a = await startFakeUpstream({ chunks: 4 });
  b = await startFakeUpstream({ chunks: 4 });
  providerA = await createProvider(ts, { name: 'a', base_url: a.url, timeout_ms: 300 });
  const providerB = await createProvider(ts, { name: 'b', base_url: b.url, timeout_ms: 300 });
  const pair = (name: string) => [
    { provider_id: providerA, upstream_model: name, priority: 0 },
    { provider_id: providerB, upstream_model: name, priority: 1 },
  ];
  for (const name of ['pair', 'pair-stream', 'pair-timeout'])
    await createModel(ts, { name, targets: pair(name) });
  await createModel(ts, { name: 'solo', targets: [{ provider_id: providerA, upstream_model: 'solo' }] });
  await createModel(ts, { name: 'flaky', targets: [{ provider_id: providerA, upstream_model: 'flaky' }] });
  await createModel(ts, { name: 'backup', targets: [{ provider_id: providerB, upstream_model: 'backup' }] });
  await createModel(ts, { name: 'long', targets: [{ provider_id: providerB, upstream_model: 'long' }] });
  await createModel(ts, {
    name: 'primary',
    targets: [{ provider_id: providerA, upstream_model: 'primary' }],
    fallbacks: ['backup'],
  });
  await createModel(ts, {
    name: 'short',
    targets: [{ provider_id: providerA, upstream_model: 'short' }],
    fallbacks: [{ model: 'long', on: ['context_length'] }],
  });
  await createModel(ts, {
    name: 'small-window',
    context_length: 32,
    targets: [{ provider_id: providerA, upstream_model: 'small-window' }],
    fallbacks: [{ model: 'long', on: ['context_length'] }],
  });
  await createModel(ts, {
    name: 'small-window-alone',
    context_length: 32,
    targets: [{ provider_id: providerA, upstream_model: 'small-window-alone' }],
  });
  await createModel(ts, {
    name: 'short-strict',
    targets: [{ provider_id: providerA, upstream_model: 'short' }],
    fallbacks: [{ model: 'long', on: ['unavailable'] }],
  });
  key = await createKey(ts);
  client = openai(ts, key);
});
afterAll(async () => {
  await ts?.close();
  await a?.close();
  await b?.close();
});

describe('retries before the first byte', () => {
  it('retries a 500 and succeeds, counting the attempts', async () => {
    a.setFaults({ model: 'solo', status: 500, times: 1 });
    const res = await call({ model: 'solo', messages: user('retry me') });
    expect(res.status).toBe(200);
    expect(await usageFor(ts, res.id)).toMatchObject({ outcome: 'success', attempts: 2 });
  });

  it('moves to the next target when the connection is reset', async () => {
    a.setFaults({ model: 'pair', reset: 'before-headers', times: 1 });
    const res = await call({ model: 'pair', messages: user('reset') });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-maas-target')).toBe('b/pair');
    expect(await usageFor(ts, res.id)).toMatchObject({
      outcome: 'success',
      attempts: 2,
      upstreamModel: 'pair',
    });
  });

  it('moves on when a target times out, and aborts the slow upstream call', async () => {
    a.clearRequests();
    a.setFaults({ model: 'pair-timeout', hang: true, times: 1 });
    const res = await call({ model: 'pair-timeout', messages: user('slow') });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-maas-target')).toBe('b/pair-timeout');
    await until(() => a.requests[0]?.aborted, 2_000, 'the hung call aborted');
  });

  it('retries a stream whose first byte is too slow, or whose connection drops after the headers', async () => {
    for (const fault of [{ firstByteDelayMs: 1_000 }, { reset: 'after-headers' as const }]) {
      a.setFaults({ model: 'pair-stream', times: 1, ...fault });
      const res = await call({ model: 'pair-stream', messages: user('w x y z'), stream: true });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-maas-target')).toBe('b/pair-stream');
      expect(res.text.trim().endsWith('data: [DONE]')).toBe(true);
      expect(await usageFor(ts, res.id)).toMatchObject({
        outcome: 'success',
        attempts: 2,
        completionTokens: 4,
      });
    }
  });

  it('waits as long as Retry-After asks before retrying the same target', async () => {
    a.setFaults({ model: 'solo', status: 503, retryAfter: 1, times: 1 });
    const started = Date.now();
    const res = await call({ model: 'solo', messages: user('patience') });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });
});

describe('fallbacks', () => {
  it('falls back to another model when the first is unavailable', async () => {
    a.setFaults({ model: 'primary', status: 503 });
    const res = await call({ model: 'primary', messages: user('fall back') });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-maas-target')).toBe('b/backup');
    expect(res.headers.get('x-maas-fallback-from')).toBe('primary');
    expect(await usageFor(ts, res.id)).toMatchObject({
      outcome: 'success',
      modelName: 'primary',
      upstreamModel: 'backup',
      fallbackFrom: 'primary',
    });
  });

  it('falls back on a context-length error only to a model configured for it', async () => {
    a.setFaults({ model: 'short', status: 400, message: "This model's maximum context length is 8 tokens" });
    const res = await call({ model: 'short', messages: user('a very long prompt indeed') });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-maas-target')).toBe('b/long');
    const strict = await call({ model: 'short-strict', messages: user('a very long prompt indeed') });
    expect(strict.status).toBe(400);
    expect(strict.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
    });
  });
});

describe('context length', () => {
  const long = 'many words that together are well over thirty two tokens of prompt '.repeat(4);

  it('sends a prompt over the context length to the fallback for it, never to the small model', async () => {
    a.clearRequests();
    const res = await call({ model: 'small-window', messages: user(long), max_tokens: 8 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-maas-target')).toBe('b/long');
    expect(res.headers.get('x-maas-fallback-from')).toBe('small-window');
    // a short prompt still goes to the model itself
    const short = await call({ model: 'small-window', messages: user('hi'), max_tokens: 8 });
    expect(short.headers.get('x-maas-target')).toBe('a/small-window');
    expect(a.requests.filter((r) => r.body?.model === 'small-window')).toHaveLength(1);
  });

  it("answers OpenAI's context_length_exceeded without calling the upstream when no fallback takes it", async () => {
    a.clearRequests();
    const err = await client.chat.completions
      .create({ model: 'small-window-alone', messages: user(long), max_tokens: 8 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    expect((err as Error).message).toMatch(/maximum context length is 32 tokens/);
    expect(a.requests).toHaveLength(0);
    const fits = await call({ model: 'small-window-alone', messages: user('hi'), max_tokens: 30 });
    expect(fits.status).toBe(400); // prompt + max_tokens over 32
    const ok = await call({ model: 'small-window-alone', messages: user('hi'), max_tokens: 8 });
    expect(ok.status).toBe(200);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, shows it, refuses fast, then closes after a good half-open probe', async () => {
    a.setFaults({ model: 'flaky', status: 500 });
    const first = await call({ model: 'flaky', messages: user('x') });
    expect(first.status).toBe(502);
    const health = (await ts.admin.get(`/api/v1/providers/${providerA}`)).body.health;
    expect(
      health.targets.find((t: { upstream_model: string }) => t.upstream_model === 'flaky'),
    ).toMatchObject({ state: 'open', consecutive_failures: 3 });
    expect(health.error_rate).toBeGreaterThan(0);

    a.clearRequests();
    const refused = await call({ model: 'flaky', messages: user('x') });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(a.requests).toHaveLength(0);
    expect(await usageFor(ts, refused.id)).toMatchObject({
      outcome: 'upstream_error',
      attempts: 0,
      httpStatus: 503,
    });

    a.setFaults(null);
    await sleep(450);
    const probe = await call({ model: 'flaky', messages: user('x') });
    expect(probe.status).toBe(200);
    const after = (await ts.admin.get(`/api/v1/providers/${providerA}`)).body.health;
    expect(after.targets.find((t: { upstream_model: string }) => t.upstream_model === 'flaky').state).toBe(
      'closed',
    );
  });
});

describe('streams that go wrong', () => {
  it('turns a JSON answer to a stream request into a stream the SDK reads, usage chunk included', async () => {
    a.setFaults({ model: 'solo', ignoreStream: true, times: 2 });
    const { data: stream, request_id: id } = await client.chat.completions
      .create({ model: 'solo', messages: user('j k'), stream: true, stream_options: { include_usage: true } })
      .withResponse();
    seen.push(id!);
    let text = '';
    let usage: { completion_tokens: number } | null | undefined;
    const finishes: (string | null)[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finishes).toEqual(['stop']);
    expect(usage?.completion_tokens).toBe(4);
    expect(await usageFor(ts, id!)).toMatchObject({
      outcome: 'success',
      stream: true,
      completionTokens: 4,
      estimated: false,
    });

    // without include_usage the client gets no usage chunk, and the stream still ends with [DONE]
    const raw = await call({ model: 'solo', messages: user('j k'), stream: true });
    expect(raw.headers.get('content-type')).toContain('text/event-stream');
    expect(raw.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(raw.text).not.toContain('"usage"');
  });

  it('passes a malformed SSE event through unchanged and still meters the stream', async () => {
    a.setFaults({ model: 'solo', malformedSse: true, times: 1 });
    const res = await call({ model: 'solo', messages: user('m n'), stream: true });
    expect(res.status).toBe(200);
    expect(res.text).toContain('data: {"id": "broken", "choices": [{"delta": \n\n');
    expect(await usageFor(ts, res.id)).toMatchObject({
      outcome: 'success',
      promptTokens: 2,
      completionTokens: 4,
      estimated: false,
    });
  });

  it('ends a stream cut mid-way with an error the SDK raises, and meters the tokens sent', async () => {
    for (const cut of ['end', 'reset'] as const) {
      // the pause lets the first chunk reach the client before the cut (a cut before that is retried)
      a.setFaults({ model: 'solo', cutAfterChunks: 2, cut, chunkDelayMs: 50, times: 1 });
      const { data: stream, request_id: id } = await client.chat.completions
        .create({ model: 'solo', messages: user('p q r s'), stream: true })
        .withResponse();
      seen.push(id!);
      let text = '';
      const read = (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })();
      const outcome = await read.then(
        () => 'resolved',
        (e) => e,
      );
      expect(outcome).toBeInstanceOf(OpenAI.APIError);
      expect(text).toMatch(/^p (q )?$/);
      const row = await usageFor(ts, id!);
      expect(row).toMatchObject({
        outcome: 'upstream_error',
        httpStatus: 200,
        attempts: 1,
        estimated: true,
        errorCode: 'upstream_error',
      });
      expect(row.completionTokens).toBeGreaterThan(0);
    }
  });
});

describe('client aborts', () => {
  it('aborts the upstream at once when the client leaves a stream, and meters what was generated', async () => {
    a.setOptions({ chunkDelayMs: 100, chunks: 30 });
    a.clearRequests();
    try {
      const solo = await issueKey(ts);
      soloKeys.push(solo.id);
      const controller = new AbortController();
      const own = openaiOwnPool(ts, solo.key);
      onTestFinished(() => own.close());
      const stream = await own.client.chat.completions.create(
        { model: 'solo', messages: user('go on forever'), stream: true },
        { signal: controller.signal },
      );
      let chunks = 0;
      // the SDK ends the iteration quietly when its request is aborted
      for await (const _ of stream) if (++chunks === 2) controller.abort();
      expect(chunks).toBe(2);
      await until(() => a.requests[0]?.aborted, 2_000, 'upstream aborted');
      const [row] = await usageOfKey(ts, solo.id);
      expect(row).toMatchObject({ outcome: 'client_abort', estimated: true, stream: true });
      expect(row!.completionTokens).toBeGreaterThan(0);
      expect(row!.completionTokens).toBeLessThan(30);
    } finally {
      a.setOptions({ chunkDelayMs: 0, chunks: 4 });
    }
  });

  it('aborts the upstream when the client leaves before the answer', async () => {
    a.setFaults({ model: 'solo', latencyMs: 250, times: 1 });
    a.clearRequests();
    const solo = await issueKey(ts);
    soloKeys.push(solo.id);
    const controller = new AbortController();
    const own = openaiOwnPool(ts, solo.key);
    onTestFinished(() => own.close());
    const pending = own.client.chat.completions.create(
      { model: 'solo', messages: user('never mind') },
      { signal: controller.signal },
    );
    await until(() => a.requests.length > 0, 2_000, 'upstream called');
    controller.abort();
    await expect(pending).rejects.toThrow();
    await until(() => a.requests[0]?.aborted, 2_000, 'upstream aborted');
    expect((await usageOfKey(ts, solo.id))[0]).toMatchObject({ outcome: 'client_abort', attempts: 1 });
  });
});

describe('metering', () => {
  it('wrote exactly one usage event per request, however it ended', async () => {
    await sleep(100);
    for (const id of seen) expect(await usageCount(ts, id), id).toBe(1);
    for (const keyId of soloKeys) expect(await usageOfKey(ts, keyId), keyId).toHaveLength(1);
  });
});
