import Anthropic from '@anthropic-ai/sdk';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, issueKey, usageFor } from './support/gateway-setup.ts';

/**
 * The Anthropic Messages API on /v1 with the stock @anthropic-ai/sdk, onto an OpenAI-compatible
 * model (the fake upstream on a real socket): translated both ways, streams included, metered.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let key: string;
let client: Anthropic;
let otherOrgKey: string;

const anthropic = (apiKey: string, options: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}) =>
  new Anthropic({ baseURL: ts.url, apiKey, maxRetries: 0, timeout: 20_000, ...options });

/** a raw call, for headers and error shapes the SDK would hide */
async function post(path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${ts.url}/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret', chunks: 5 });
  const provider = await createProvider(ts, {
    name: 'fake',
    base_url: upstream.url,
    api_key: 'upstream-secret',
  });
  await createModel(ts, {
    name: 'chat-small',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  await createModel(ts, {
    name: 'chat-slow',
    targets: [{ provider_id: provider, upstream_model: 'fake-slow' }],
  });
  const claude = await createProvider(ts, {
    name: 'claude',
    type: 'anthropic',
    base_url: upstream.baseUrl,
    api_key: 'upstream-secret',
  });
  await createModel(ts, {
    name: 'claude',
    targets: [{ provider_id: claude, upstream_model: 'fake-claude' }],
  });
  key = await createKey(ts);
  client = anthropic(key);

  // another org, with a model of its own and a key
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant B' });
  const b = ts.client();
  await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const bProvider = await createProvider(ts, { name: 'b-fake', base_url: upstream.url }, b);
  await createModel(
    ts,
    { name: 'b-private', targets: [{ provider_id: bProvider, upstream_model: 'fake-b' }] },
    b,
  );
  const bProject = (await b.get('/api/v1/projects')).body.data[0].id;
  otherOrgKey = await createKey(ts, { project_id: bProject }, b);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('POST /v1/messages', () => {
  it('answers a plain request as an Anthropic message, with a system prompt, and meters it', async () => {
    upstream.clearRequests();
    const { data, request_id, response } = await client.messages
      .create({
        model: 'chat-small',
        max_tokens: 100,
        system: 'you are terse',
        messages: [{ role: 'user', content: 'hello there gateway' }],
        // sampling fields this SDK version no longer types, still sent by older clients
        ...({ temperature: 0.5, top_k: 5 } as object),
        metadata: { user_id: 'end-user-7' },
      })
      .withResponse();
    expect(data).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'chat-small',
      content: [{ type: 'text', text: 'hello there gateway hello there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 6, output_tokens: 5 },
    });
    expect(response.headers.get('x-request-id')).toBe(request_id);
    expect(upstream.requests[0]!.path).toBe('/v1/chat/completions');
    expect(upstream.requests[0]!.body).toMatchObject({
      model: 'fake-chat',
      max_tokens: 100,
      temperature: 0.5,
      top_k: 5,
      user: 'end-user-7',
      messages: [
        { role: 'system', content: 'you are terse' },
        { role: 'user', content: 'hello there gateway' },
      ],
    });
    expect(await usageFor(ts, request_id!)).toMatchObject({
      outcome: 'success',
      endpoint: 'chat.completions',
      promptTokens: 6,
      completionTokens: 5,
      estimated: false,
    });
  });

  it('streams the exact Anthropic event sequence; messages.stream() and finalMessage() work', async () => {
    upstream.clearRequests();
    const stream = client.messages.stream({
      model: 'chat-small',
      max_tokens: 100,
      system: [{ type: 'text', text: 'block system', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'one two' }] }],
    });
    const types: string[] = [];
    let text = '';
    stream.on('streamEvent', (e) => types.push(e.type));
    stream.on('text', (t) => {
      text += t;
    });
    const final = await stream.finalMessage();
    expect(text).toBe('one two one two one');
    // the SDK keeps ping to itself; the raw sequence is checked below
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      ...Array(5).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(final).toMatchObject({
      content: [{ type: 'text', text: 'one two one two one' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 4, output_tokens: 5 },
    });
    expect(upstream.requests[0]!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'block system' },
        { role: 'user', content: 'one two' },
      ],
    });
    const requestId = stream.request_id ?? (await stream.withResponse()).response.headers.get('x-request-id');
    expect(await usageFor(ts, requestId!)).toMatchObject({
      outcome: 'success',
      promptTokens: 4,
      completionTokens: 5,
    });
  });

  it('sends Anthropic’s SSE events in order, ping included, on the wire', async () => {
    const res = await fetch(`${ts.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'chat-small',
        max_tokens: 3,
        stream: true,
        messages: [{ role: 'user', content: 'alpha beta gamma delta' }],
      }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\S+)\ndata: (.*)$/gm)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2]!),
    }));
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    expect(events[2]!.data).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    expect(events[3]!.data).toEqual({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'alpha ' },
    });
    expect(events[7]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { input_tokens: 4, output_tokens: 3 },
    });
  });

  it('stops on a stop sequence and says which', async () => {
    const data = await client.messages.create({
      model: 'chat-small',
      max_tokens: 100,
      stop_sequences: ['three'],
      messages: [{ role: 'user', content: 'one two three four' }],
    });
    expect(upstream.requests.at(-1)!.body.stop).toEqual(['three']);
    expect(data).toMatchObject({
      content: [{ type: 'text', text: 'one two ' }],
      stop_reason: 'stop_sequence',
      stop_sequence: 'three',
    });
  });

  it('reports max_tokens as the stop reason when the answer was cut', async () => {
    const data = await client.messages.create({
      model: 'chat-small',
      max_tokens: 2,
      messages: [{ role: 'user', content: 'one two three' }],
    });
    expect(data).toMatchObject({ stop_reason: 'max_tokens', usage: { output_tokens: 2 } });
  });

  it('round-trips tools: tool_use out, tool_result back in (non-stream)', async () => {
    upstream.clearRequests();
    const first = await client.messages.create({
      model: 'chat-small',
      max_tokens: 200,
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'Oslo' }],
    });
    expect(upstream.requests[0]!.body).toMatchObject({
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'The weather in a city',
            parameters: weatherTool.input_schema,
          },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use')!;
    expect(use).toMatchObject({
      type: 'tool_use',
      id: expect.any(String),
      name: 'get_weather',
      input: { city: 'Oslo' },
    });

    const second = await client.messages.create({
      model: 'chat-small',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Oslo' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'rainy and cold' }] },
          ],
        },
      ],
    });
    expect(upstream.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'Oslo' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: use.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: use.id, content: 'rainy and cold' },
    ]);
    expect(second).toMatchObject({
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'rainy and cold rainy and' }],
    });
  });

  it('streams a tool call as input_json_delta; the SDK assembles its input', async () => {
    const stream = client.messages.stream({
      model: 'chat-small',
      max_tokens: 200,
      tools: [weatherTool],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Bergen' }],
    });
    const deltas: string[] = [];
    stream.on('streamEvent', (e) => {
      if (e.type === 'content_block_delta') deltas.push(e.delta.type);
    });
    const final = await stream.finalMessage();
    expect(upstream.requests.at(-1)!.body.tool_choice).toBe('required');
    expect(deltas).toEqual(['input_json_delta', 'input_json_delta']);
    expect(final).toMatchObject({
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'get_weather', input: { city: 'Bergen' } }],
    });
  });

  it('translates images (base64 and URL) into image_url parts', async () => {
    upstream.clearRequests();
    await client.messages.create({
      model: 'chat-small',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.test/cat.png' } },
            { type: 'text', text: 'what is this' },
          ],
        },
      ],
    });
    expect(upstream.requests[0]!.body.messages[0].content).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.test/cat.png' } },
      { type: 'text', text: 'what is this' },
    ]);
  });
});

describe('streams that end early', () => {
  it('meters a client that leaves mid-stream once, as client_abort, and cuts the upstream', async () => {
    upstream.setFaults({ model: 'fake-slow', chunkDelayMs: 50, chunks: 200 });
    const controller = new AbortController();
    const res = await fetch(`${ts.url}/v1/messages`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'chat-slow',
        max_tokens: 500,
        stream: true,
        messages: [{ role: 'user', content: 'a b c' }],
      }),
    });
    const requestId = res.headers.get('x-request-id')!;
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('text_delta')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const row = await usageFor(ts, requestId);
    expect(row).toMatchObject({ outcome: 'client_abort', stream: true });
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.completionTokens).toBeLessThan(200);
    upstream.setFaults(null);
  });

  it('ends a stream the upstream broke with an Anthropic error event; the SDK throws', async () => {
    upstream.setFaults({ model: 'fake-slow', cutAfterChunks: 2, times: 1 });
    const stream = client.messages.stream({
      model: 'chat-slow',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'a b c' }],
    });
    await expect(stream.finalMessage()).rejects.toThrow(/ended unexpectedly/);
  });
});

describe('onto an Anthropic provider', () => {
  it('passes the request through unchanged (thinking signatures, cache_control) and the answer back', async () => {
    upstream.clearRequests();
    const request = {
      model: 'claude',
      max_tokens: 50,
      system: [{ type: 'text' as const, text: 'be brief', cache_control: { type: 'ephemeral' as const } }],
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      messages: [
        { role: 'user' as const, content: 'first question' },
        {
          role: 'assistant' as const,
          content: [
            { type: 'thinking' as const, thinking: 'pondering', signature: 'sig-abc123' },
            { type: 'text' as const, text: 'first answer' },
          ],
        },
        {
          role: 'user' as const,
          content: [
            {
              type: 'text' as const,
              text: 'hello anthropic friend',
              cache_control: { type: 'ephemeral' as const },
            },
          ],
        },
      ],
    };
    const { data, request_id } = await client.messages.create(request).withResponse();
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('upstream-secret');
    expect(sent.body).toEqual({ ...request, model: 'fake-claude' });
    expect(data).toMatchObject({
      id: expect.stringMatching(/^msg_fake_/),
      type: 'message',
      model: 'claude',
      content: [{ type: 'text', text: expect.stringContaining('hello anthropic friend') }],
      stop_reason: 'end_turn',
    });
    expect(await usageFor(ts, request_id!)).toMatchObject({
      outcome: 'success',
      promptTokens: data.usage.input_tokens,
      completionTokens: data.usage.output_tokens,
      estimated: false,
    });

    upstream.clearRequests();
    const stream = client.messages.stream({ ...request, messages: [{ role: 'user', content: 'x y' }] });
    const final = await stream.finalMessage();
    expect(upstream.requests[0]!.body).toMatchObject({ stream: true, thinking: request.thinking });
    expect(final.id).toMatch(/^msg_fake_/);
    expect(final.model).toBe('claude');
    expect(final.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('x y') });
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });
});

describe('what only Anthropic understands', () => {
  const doc = {
    type: 'document',
    source: { type: 'text', media_type: 'text/plain', data: 'the contract says yes' },
  };
  const webSearch = { type: 'web_search_20250305', name: 'web_search', max_uses: 2 };

  it('is refused, naming the part, on a model an OpenAI-compatible upstream serves', async () => {
    const version = { 'anthropic-version': '2023-06-01', 'x-api-key': key };
    const withDoc = await post(
      '/messages',
      { model: 'chat-small', max_tokens: 10, messages: [{ role: 'user', content: [doc] }] },
      version,
    );
    expect(withDoc.status).toBe(400);
    expect(withDoc.body.error).toEqual({
      type: 'invalid_request_error',
      message:
        'messages.0.content.0: a `document` block is supported only on models served by an Anthropic provider.',
    });
    const withTool = await post(
      '/messages',
      { model: 'chat-small', max_tokens: 10, tools: [webSearch], messages: [{ role: 'user', content: 'x' }] },
      version,
    );
    expect(withTool.status).toBe(400);
    expect(withTool.body.error.message).toContain('server tool `web_search_20250305`');
  });

  it('passes through to an Anthropic provider unchanged', async () => {
    upstream.clearRequests();
    const request = {
      model: 'claude',
      max_tokens: 10,
      tools: [webSearch],
      messages: [{ role: 'user', content: [doc, { type: 'text', text: 'does it?' }] }],
    };
    const res = await post('/messages', request, { 'anthropic-version': '2023-06-01', 'x-api-key': key });
    expect(res.status).toBe(200);
    expect(upstream.requests[0]!.body).toEqual({ ...request, model: 'fake-claude' });
  });
});

describe('errors in Anthropic’s shape', () => {
  const version = { 'anthropic-version': '2023-06-01' };
  const valid = { model: 'chat-small', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

  it('accepts x-api-key and Bearer; refuses a bad key with 401 authentication_error', async () => {
    expect((await post('/messages', valid, { ...version, 'x-api-key': key })).status).toBe(200);
    expect((await post('/messages', valid, { ...version, authorization: `Bearer ${key}` })).status).toBe(200);
    // Claude Code's path
    expect((await post('/messages?beta=true', valid, { ...version, 'x-api-key': key })).status).toBe(200);
    const bad = await post('/messages', valid, { ...version, 'x-api-key': 'sk-maas-not-a-key' });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: expect.any(String) },
    });
    await expect(anthropic('sk-maas-wrong').messages.create(valid as never)).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
  });

  it('requires the anthropic-version header, as Anthropic does', async () => {
    const res = await post('/messages', valid, { 'x-api-key': key });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    });
  });

  it('refuses a request without max_tokens with 400 invalid_request_error', async () => {
    const { max_tokens: _omit, ...body } = valid;
    const res = await post('/messages', body, { ...version, 'x-api-key': key });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
    // refused, and metered like any other request
    expect(await usageFor(ts, res.headers.get('x-request-id')!)).toMatchObject({
      outcome: 'rejected',
      httpStatus: 400,
      errorCode: 'validation_failed',
    });
    await expect(client.messages.create(body as never)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('answers hostile bodies with a 400 in Anthropic’s shape, never a 5xx', async () => {
    const bodies: unknown[] = [
      [],
      'just a string',
      null,
      { ...valid, max_tokens: 'ten' },
      { ...valid, max_tokens: 0 },
      { ...valid, messages: [] },
      { ...valid, messages: [{ role: 'system', content: 'x' }] },
      { ...valid, messages: [{ role: 'user', content: [{ type: 'mystery' }] }] },
      { ...valid, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file' } }] }] },
      { ...valid, messages: [{ role: 'user', content: { nested: [null] } }] },
      { ...valid, tools: [{ name: 'web_search', type: 'web_search_20250305' }] },
      { ...valid, tool_choice: { type: 'tool' } },
      { ...valid, system: 42 },
      { ...valid, stop_sequences: 'END' },
      { ...valid, temperature: 7 },
      { ...valid, model: { nested: true } },
    ];
    for (const body of bodies) {
      const res = await post('/messages', body, { ...version, 'x-api-key': key });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.any(String) },
      });
    }
    const notJson = await fetch(`${ts.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, ...version },
      body: '{"model": ',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error.type).toBe('invalid_request_error');
  });

  it('answers an unknown model, or another org’s, with 404 not_found_error', async () => {
    for (const model of ['no-such-model', 'b-private']) {
      const res = await post('/messages', { ...valid, model }, { ...version, 'x-api-key': key });
      expect(res.status).toBe(404);
      expect(res.body.error.type).toBe('not_found_error');
      expect(res.body.error.message).toContain(model);
    }
    // and the other org's key cannot reach ours
    const res = await post('/messages', valid, { ...version, 'x-api-key': otherOrgKey });
    expect(res.status).toBe(404);
    expect(res.body.error.type).toBe('not_found_error');
    await expect(anthropic(otherOrgKey).messages.create(valid as never)).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
  });

  it('answers a key over its RPM with 429 rate_limit_error and Retry-After', async () => {
    const limited = await issueKey(ts, { name: 'anthropic-rpm' });
    expect(
      (await ts.admin.post('/api/v1/limits', { scope: 'key', scope_id: limited.id, rpm: 1 })).status,
    ).toBe(201);
    await new Promise((r) => setTimeout(r, 100));
    expect((await post('/messages', valid, { ...version, 'x-api-key': limited.key })).status).toBe(200);
    const res = await post('/messages', valid, { ...version, 'x-api-key': limited.key });
    expect(res.status).toBe(429);
    expect(res.body.error.type).toBe('rate_limit_error');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const requestId = res.headers.get('x-request-id')!;
    expect(await usageFor(ts, requestId)).toMatchObject({ outcome: 'rejected', httpStatus: 429 });
  });
});

describe('POST /v1/messages/count_tokens', () => {
  it('counts the input tokens of a request with the gateway’s tokenizer', async () => {
    const short = await client.messages.countTokens({
      model: 'chat-small',
      messages: [{ role: 'user', content: 'hello' }],
    });
    const long = await client.messages.countTokens({
      model: 'chat-small',
      system: 'you are a helpful assistant who answers in long sentences',
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'hello, what is the weather like in Oslo today?' }],
    });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens + 10);
  });

  it('does not count for a model the key may not use', async () => {
    await expect(
      client.messages.countTokens({ model: 'b-private', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});
