import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKey,
  createModel,
  createProvider,
  openai,
  usageFor,
  usageOf,
  v1,
} from './support/gateway-setup.ts';

/** The OpenAI SDK through the gateway to a fake OpenAI-style upstream, on real sockets. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let key: string;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_METRICS_TOKEN: 'metrics-token-for-tests' });
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret', chunks: 5 });
  const provider = await createProvider(ts, {
    name: 'fake',
    base_url: upstream.url,
    api_key: 'upstream-secret',
  });
  await createModel(ts, {
    name: 'chat-small',
    aliases: ['small'],
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
    default_params: { temperature: 0.25 },
  });
  await createModel(ts, {
    name: 'text-small',
    type: 'completion',
    targets: [{ provider_id: provider, upstream_model: 'fake-text' }],
  });
  await createModel(ts, {
    name: 'org/slashed',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  key = await createKey(ts);
  client = openai(ts, key);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('models', () => {
  it('lists only the models the key may call, in OpenAI’s list shape', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toEqual(['chat-small', 'org/slashed', 'text-small']);
    expect(page.data[0]).toMatchObject({
      object: 'model',
      owned_by: expect.any(String),
      created: expect.any(Number),
    });
  });

  it('retrieves one model by name or alias', async () => {
    expect((await client.models.retrieve('small')).id).toBe('chat-small');
    expect((await client.models.retrieve('org/slashed')).id).toBe('org/slashed');
    expect((await v1(ts, key, '/models/org/slashed')).body.id).toBe('org/slashed');
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });
});

describe('chat completions', () => {
  it('answers a plain request, with our headers and the upstream’s usage', async () => {
    upstream.clearRequests();
    const { data, response, request_id } = await client.chat.completions
      .create({ model: 'chat-small', messages: [{ role: 'user', content: 'hello there gateway' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message.content).toBe('hello there gateway hello there');
    expect(data.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5 });
    expect(request_id).toMatch(/^req_/);
    expect(response.headers.get('x-maas-target')).toBe('fake/fake-chat');
    expect(Number(response.headers.get('x-maas-overhead-ms'))).toBeGreaterThanOrEqual(0);
    const sent = upstream.requests[0]!;
    expect(sent.body).toMatchObject({ model: 'fake-chat', temperature: 0.25 });
    expect(sent.headers.authorization).toBe('Bearer upstream-secret');
    const row = await usageFor(ts, request_id!);
    expect(row).toMatchObject({
      outcome: 'success',
      httpStatus: 200,
      promptTokens: 3,
      completionTokens: 5,
      estimated: false,
      attempts: 1,
      stream: false,
      modelName: 'chat-small',
      upstreamModel: 'fake-chat',
      endpoint: 'chat.completions',
    });
    expect(row.ttftMs).not.toBeNull();
  });

  it('passes tools, response_format, n, logprobs and unknown fields through, and the client’s own temperature wins', async () => {
    upstream.clearRequests();
    await client.chat.completions.create({
      model: 'small',
      messages: [{ role: 'user', content: 'x' }],
      temperature: 0.9,
      n: 2,
      logprobs: true,
      top_logprobs: 2,
      response_format: { type: 'json_object' },
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      // @ts-expect-error a field the SDK does not know yet
      brand_new_field: { nested: true },
    });
    expect(upstream.requests[0]!.body).toMatchObject({
      model: 'fake-chat',
      temperature: 0.9,
      n: 2,
      logprobs: true,
      top_logprobs: 2,
      response_format: { type: 'json_object' },
      tools: [{ type: 'function', function: { name: 'f' } }],
      brand_new_field: { nested: true },
    });
  });

  it('streams, hiding the usage chunk it asked the upstream for', async () => {
    upstream.clearRequests();
    const { data: stream, request_id } = await client.chat.completions
      .create({ model: 'chat-small', messages: [{ role: 'user', content: 'one two' }], stream: true })
      .withResponse();
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('one two one two one');
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(upstream.requests[0]!.body.stream_options).toEqual({ include_usage: true });
    const row = await usageFor(ts, request_id!);
    expect(row).toMatchObject({
      outcome: 'success',
      stream: true,
      promptTokens: 2,
      completionTokens: 5,
      estimated: false,
    });
  });

  it('streams the usage chunk when the client asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'chat-small',
      messages: [{ role: 'user', content: 'a b c' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5 });
  });

  it('passes stream bytes through unchanged', async () => {
    const res = await v1(ts, key, '/chat/completions', {
      model: 'chat-small',
      messages: [{ role: 'user', content: 'q' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = res.text.split('\n\n').filter(Boolean);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    expect(events[0]).toMatch(/^data: \{"id":"chatcmpl-fake-\d+","object":"chat.completion.chunk"/);
  });

  it('estimates tokens with the tokenizer when the upstream reports none, and flags them', async () => {
    upstream.setOptions({ usage: false });
    try {
      const plain = await client.chat.completions
        .create({ model: 'chat-small', messages: [{ role: 'user', content: 'count me please' }] })
        .withResponse();
      const stream = await client.chat.completions
        .create({
          model: 'chat-small',
          messages: [{ role: 'user', content: 'count me please' }],
          stream: true,
        })
        .withResponse();
      for await (const _ of stream.data) {
      }
      const rows = await usageOf(ts, [plain.request_id!, stream.request_id!]);
      for (const row of rows) {
        expect(row).toMatchObject({ outcome: 'success', estimated: true });
        expect(row.promptTokens).toBeGreaterThan(0);
        expect(row.completionTokens).toBeGreaterThan(0);
      }
    } finally {
      upstream.setOptions({ usage: true });
    }
  });
});

describe('completions', () => {
  it('answers plain and streamed text completions', async () => {
    const plain = await client.completions.create({
      model: 'text-small',
      prompt: 'say it back',
      max_tokens: 3,
    });
    expect(plain.choices[0]!.text).toBe('say it back');
    const stream = await client.completions.create({
      model: 'text-small',
      prompt: 'again and again',
      stream: true,
      max_tokens: 2,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('again and');
  });

  it('accepts a chat model on /v1/completions but not a completion model on chat', async () => {
    expect(
      (await client.completions.create({ model: 'chat-small', prompt: 'x y', max_tokens: 2 })).choices[0]!
        .text,
    ).toBe('x y');
    await expect(
      client.chat.completions.create({ model: 'text-small', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 400, type: 'invalid_request_error' });
  });
});

describe('metrics', () => {
  /** The value of one sample line of /metrics (0 when absent). */
  const sample = (text: string, line: string) => {
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return found ? Number(found.slice(line.length + 1)) : 0;
  };
  const scrape = async () =>
    (
      await fetch(`${ts.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-for-tests' } })
    ).text();

  it('counts requests, tokens and durations per model asked for and provider, and usage still pending', async () => {
    const ok =
      'maas_gateway_requests_total{model="chat-small",provider="fake",outcome="success",status="200"}';
    const missing =
      'maas_gateway_requests_total{model="unknown",provider="none",outcome="rejected",status="404"}';
    const prompt = 'maas_gateway_tokens_total{model="chat-small",provider="fake",type="prompt"}';
    const before = await scrape();
    // through the alias: counted under the model's own name
    const answer = await client.chat.completions.create({
      model: 'small',
      messages: [{ role: 'user', content: 'count these words' }],
    });
    await client.chat.completions
      .create({
        model: 'chat-small',
        stream: true,
        messages: [{ role: 'user', content: 'and these' }],
      })
      .then(async (stream) => {
        for await (const _ of stream);
      });
    await expect(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404 });
    const after = await scrape();
    expect(sample(after, ok) - sample(before, ok)).toBe(2);
    expect(sample(after, missing) - sample(before, missing)).toBe(1);
    expect(sample(after, prompt) - sample(before, prompt)).toBeGreaterThanOrEqual(
      answer.usage!.prompt_tokens,
    );
    const durations = 'maas_gateway_request_duration_seconds_count{model="chat-small",provider="fake"}';
    expect(sample(after, durations) - sample(before, durations)).toBe(2);
    expect(after).toMatch(
      /^maas_gateway_time_to_first_token_seconds_bucket\{le="[^"]+",model="chat-small",provider="fake"\} \d+/m,
    );
    expect(after).toMatch(/^maas_usage_events_pending \d+$/m);
  });
});
