import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createScratchDatabase,
  type FakeUpstream,
  type SpawnedServer,
  spawnServer,
  startFakeUpstream,
  startTestServer,
  type TestServer,
  testDatabaseUrl,
} from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchServerEnv, setUpBatchTenant } from './support/batch-spawned.ts';
import { createKey, createModel, createProvider, until } from './support/gateway-setup.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './support/otlp-receiver.ts';

/**
 * OpenTelemetry end to end: a spawned `maas serve` with the standard OTEL_* variables exports to a
 * collector on a socket (OTLP/HTTP JSON); a client's `traceparent` is continued, each upstream
 * attempt is a client span whose `traceparent` the fake upstream receives, and the spans carry the
 * GenAI attributes (semconv 1.37) but no prompt, key or tenant id.
 */
const SERVER = 2;
const CLIENT = 3;
const PROMPT = 'the secret recipe is forty-two spoons of salt';

const traceparentOf = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;
const randomHex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

describe('tracing on (OTEL_TRACES_EXPORTER=otlp, http/json)', () => {
  let receiver: OtlpReceiver;
  let upstream: FakeUpstream;
  let server: SpawnedServer;
  let dataDir: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let client: OpenAI;
  let secret: string;
  let keyId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startFakeUpstream({ chunks: 5 });
    dataDir = await mkdtemp(join(tmpdir(), 'maas-tracing-'));
    const databaseUrl = testDatabaseUrl();
    scratch = databaseUrl ? await createScratchDatabase(databaseUrl) : undefined;
    server = await spawnServer(
      {
        ...batchServerEnv(scratch ? { DATABASE_URL: scratch.url } : { MAAS_DATA_DIR: dataDir }),
        MAAS_BATCH_CONCURRENCY: '0',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'maas-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      { timeoutMs: 150_000 },
    );
    const tenant = await setUpBatchTenant(server, upstream);
    secret = tenant.secret;
    keyId = tenant.keyId;
    client = new OpenAI({ apiKey: secret, baseURL: `${server.url}/v1`, maxRetries: 0 });
  }, 200_000);

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    await receiver?.close();
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const waitForTrace = (traceId: string, count: number) =>
    until(
      () => (spansOf(traceId).length >= count ? spansOf(traceId) : null),
      10_000,
      `${count} spans of trace ${traceId}`,
    );
  const one = (spans: ReceivedSpan[], name: string) => {
    const found = spans.filter((s) => s.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };

  it('continues the client trace through admit, route, the upstream attempt and usage (non-stream)', async () => {
    const traceId = randomHex(16);
    const clientSpan = randomHex(8);
    upstream.clearRequests();
    const answer = await client.chat.completions.create(
      { model: 'chat-small', messages: [{ role: 'user', content: PROMPT }] },
      { headers: { traceparent: traceparentOf(traceId, clientSpan) } },
    );
    expect(answer.choices[0]?.message.content).toBeTruthy();
    const spans = await waitForTrace(traceId, 5);

    const request = one(spans, 'POST /v1/chat/completions');
    expect(request.kind).toBe(SERVER);
    expect(request.parentSpanId).toBe(clientSpan);
    expect(request.resource['service.name']).toBe('maas-under-test');
    expect(request.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'chat-small',
      'gen_ai.response.model': 'fake-chat',
      'gen_ai.provider.name': 'openai_compatible',
      'gen_ai.usage.input_tokens': answer.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': answer.usage!.completion_tokens,
      'http.response.status_code': 200,
      'maas.outcome': 'success',
      'maas.attempts': 1,
    });
    expect(request.attributes['maas.gen_ai.time_to_first_token']).toBeGreaterThan(0);
    for (const step of ['admit', 'route', 'usage'])
      expect(one(spans, step).parentSpanId).toBe(request.spanId);

    const attempt = one(spans, 'chat fake-chat');
    expect(attempt.kind).toBe(CLIENT);
    expect(attempt.parentSpanId).toBe(one(spans, 'route').spanId);
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai_compatible',
      'gen_ai.request.model': 'fake-chat',
      'gen_ai.response.model': 'fake-chat',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'maas.attempt': 1,
    });
    expect(attempt.events.map((e) => e.name)).toContain('first_token');

    // the upstream was called with the attempt's own span as parent, in the client's trace
    const calls = upstream.requests.filter((r) => r.method === 'POST');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers.traceparent).toBe(traceparentOf(traceId, attempt.spanId));
  });

  it('streams: TTFT and time per output token on the request span, first_token on the attempt', async () => {
    const traceId = randomHex(16);
    const parent = randomHex(8);
    const stream = await client.chat.completions.create(
      {
        model: 'chat-small',
        messages: [{ role: 'user', content: PROMPT }],
        stream: true,
        stream_options: { include_usage: true },
      },
      { headers: { traceparent: traceparentOf(traceId, parent) } },
    );
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage?.completion_tokens).toBeGreaterThan(1);
    const spans = await waitForTrace(traceId, 5);
    const request = one(spans, 'POST /v1/chat/completions');
    expect(request.parentSpanId).toBe(parent);
    expect(request.attributes['gen_ai.usage.output_tokens']).toBe(usage!.completion_tokens);
    expect(request.attributes['maas.stream']).toBe(true);
    expect(request.attributes['maas.gen_ai.time_to_first_token']).toBeGreaterThan(0);
    expect(request.attributes['maas.gen_ai.time_per_output_token']).toBeGreaterThanOrEqual(0);
    const attempt = one(spans, 'chat fake-chat');
    expect(attempt.events.map((e) => e.name)).toEqual(['first_token']);
  });

  it('a retried request has one client span per attempt, each sent upstream with its own traceparent', async () => {
    const traceId = randomHex(16);
    upstream.clearRequests();
    upstream.setFaults({ status: 503, times: 1 });
    await client.chat.completions.create(
      { model: 'chat-small', messages: [{ role: 'user', content: PROMPT }] },
      { headers: { traceparent: traceparentOf(traceId, randomHex(8)) } },
    );
    upstream.setFaults(null);
    const spans = await waitForTrace(traceId, 6);
    const route = one(spans, 'route');
    const attempts = spans
      .filter((s) => s.kind === CLIENT)
      .sort((a, b) => Number(a.attributes['maas.attempt']) - Number(b.attributes['maas.attempt']));
    expect(attempts).toHaveLength(2);
    for (const a of attempts) expect(a.parentSpanId).toBe(route.spanId);
    expect(attempts[0]!.attributes).toMatchObject({ 'http.response.status_code': 503, 'maas.attempt': 1 });
    expect(attempts[0]!.attributes['error.type']).toBeTruthy();
    expect(attempts[0]!.status.code).toBe(2); // ERROR
    expect(attempts[1]!.attributes).toMatchObject({ 'http.response.status_code': 200, 'maas.attempt': 2 });
    expect(one(spans, 'POST /v1/chat/completions').attributes['maas.attempts']).toBe(2);
    expect(upstream.requests.filter((r) => r.method === 'POST').map((r) => r.headers.traceparent)).toEqual(
      attempts.map((a) => traceparentOf(traceId, a.spanId)),
    );
  });

  it('a request without traceparent starts a trace of its own, and no span holds prompts, keys or tenant ids', async () => {
    upstream.clearRequests();
    await client.chat.completions.create({
      model: 'chat-small',
      messages: [{ role: 'user', content: PROMPT }],
    });
    const sent = (await upstream.waitForRequest((r) => r.method === 'POST')).headers.traceparent as string;
    const [, traceId] = sent.split('-');
    const spans = await waitForTrace(traceId!, 5);
    expect(one(spans, 'POST /v1/chat/completions').parentSpanId).toBe('');
    const everything = JSON.stringify(receiver.spans);
    expect(everything).not.toContain('forty-two spoons');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(secret.slice(0, 16));
    expect(everything).not.toContain(keyId);
    expect(everything).not.toMatch(/"org_[0-9A-Za-z]+|"prj_[0-9A-Za-z]+|"usr_[0-9A-Za-z]+/);
  });
});

describe('tracing off (the default)', () => {
  let ts: TestServer;
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ chunks: 3 });
    ts = await startTestServer();
    const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
    await createModel(ts, {
      name: 'chat-small',
      type: 'chat',
      targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
    });
  }, 60_000);

  afterAll(async () => {
    await ts?.close();
    await upstream?.close();
  });

  it('adds no traceparent upstream and does not forward the client one', async () => {
    expect(ts.server.services.gateway.context.tracing).toBeNull();
    const client = new OpenAI({ apiKey: await createKey(ts), baseURL: `${ts.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create(
      { model: 'chat-small', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { traceparent: traceparentOf(randomHex(16), randomHex(8)) } },
    );
    const stream = await client.chat.completions.create({
      model: 'chat-small',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const _ of stream) {
    }
    const calls = upstream.requests.filter((r) => r.method === 'POST');
    expect(calls).toHaveLength(2);
    for (const r of calls) {
      expect(r.headers.traceparent).toBeUndefined();
      expect(r.headers.tracestate).toBeUndefined();
    }
  });
});
