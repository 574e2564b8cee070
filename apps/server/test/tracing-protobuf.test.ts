import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing } from '../src/modules/observability/tracing.ts';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.ts';

/**
 * The default OTLP protocol (http/protobuf) against a collector on a socket, and what an attempt
 * sends upstream: the client's trace continued (with its tracestate), the provider's own headers
 * kept. The SDK reads the endpoint from the process environment, as in production.
 */
describe('tracing with the default protocol (http/protobuf)', () => {
  let receiver: OtlpReceiver;
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  });

  afterAll(async () => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    await receiver?.close();
  });

  it('exports protobuf spans of the client trace and propagates traceparent and tracestate', async () => {
    const tracing = await startTracing({ OTEL_TRACES_EXPORTER: 'otlp' }, pino({ level: 'silent' }));
    expect(tracing).not.toBeNull();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const trace = tracing!.startRequest({
      endpoint: 'chat.completions',
      route: '/v1/chat/completions',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'vendor=opaque' },
      startedAt: performance.now(),
    });
    trace.step('admit').end();
    const route = trace.step('route');
    const attempt = trace.attempt({
      requestModel: 'chat-small',
      upstreamModel: 'fake-chat',
      providerName: 'openai_compatible',
      providerId: 'prv_test',
      origin: 'http://127.0.0.1:9',
      number: 1,
      stream: false,
    });
    const headers = attempt.headers({ authorization: 'Bearer sk-upstream' });
    expect(headers.authorization).toBe('Bearer sk-upstream');
    expect(headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(headers.traceparent).not.toContain('00f067aa0ba902b7'); // the attempt's own span is the parent
    expect(headers.tracestate).toBe('vendor=opaque');
    attempt.end({ status: 200, error: null, firstTokenAt: performance.now() });
    route.end();
    trace.finish({
      requestModel: 'chat-small',
      status: 200,
      outcome: 'success',
      error: null,
      attempts: 1,
      inputTokens: 12,
      outputTokens: 5,
      estimated: false,
      ttftMs: 20,
      latencyMs: 30,
      stream: false,
    });
    await tracing!.shutdown(); // flushes the batch
    expect(receiver.contentTypes).toEqual(['application/x-protobuf']);
    const body = Buffer.concat(receiver.rawBodies);
    expect(body.includes(Buffer.from(traceId, 'hex'))).toBe(true);
    for (const text of ['POST /v1/chat/completions', 'chat fake-chat', 'gen_ai.provider.name', 'first_token'])
      expect(body.includes(Buffer.from(text)), text).toBe(true);
  });

  it('a hostile client cannot break the request path or push oversized or invalid trace headers upstream', async () => {
    const tracing = (await startTracing({ OTEL_TRACES_EXPORTER: 'otlp' }, pino({ level: 'silent' })))!;
    const upstreamHeaders = (headers: Record<string, string>) => {
      const trace = tracing.startRequest({
        endpoint: 'embeddings',
        route: '/v1/embeddings',
        headers,
        startedAt: performance.now(),
      });
      const attempt = trace.attempt({
        requestModel: 'embed',
        upstreamModel: 'fake-embed',
        providerName: 'openai_compatible',
        providerId: 'prv_test',
        origin: 'not a url',
        number: 1,
        stream: false,
      });
      const sent = attempt.headers({});
      attempt.end({ status: null, error: 'upstream_timeout', firstTokenAt: null });
      trace.finish({
        requestModel: null,
        status: 504,
        outcome: 'timeout',
        error: 'upstream_timeout',
        attempts: 1,
        inputTokens: 0,
        outputTokens: 0,
        estimated: false,
        ttftMs: null,
        latencyMs: 5,
        stream: false,
      });
      return sent;
    };
    const valid = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;
    // malformed, all-zero and unknown-version parents are ignored: a trace of our own starts
    for (const traceparent of [
      'garbage',
      `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`,
      `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01-extra-${'x'.repeat(5000)}`,
    ]) {
      const sent = upstreamHeaders({ traceparent, tracestate: 'a=b' });
      expect(sent.traceparent).toMatch(valid);
      expect(sent.traceparent).not.toContain('a'.repeat(32));
      expect(sent.tracestate).toBeUndefined();
    }
    // a tracestate past the W3C limits is dropped, never relayed
    const huge = Array.from({ length: 400 }, (_, i) => `k${i}=${'v'.repeat(30)}`).join(',');
    const sent = upstreamHeaders({
      traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`,
      tracestate: huge,
    });
    expect(sent.traceparent).toMatch(new RegExp(`^00-${'c'.repeat(32)}-`));
    expect((sent.tracestate ?? '').length).toBeLessThanOrEqual(512);
    await tracing.shutdown();
  });
});
