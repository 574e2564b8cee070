import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './index.ts';

describe('fake upstream', () => {
  let upstream: FakeUpstream;
  let openai: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ apiKey: 'sk-upstream' });
    openai = new OpenAI({ baseURL: upstream.url, apiKey: 'sk-upstream', maxRetries: 0, timeout: 2_000 });
  });
  afterAll(() => upstream.close());
  beforeEach(() => {
    upstream.setFaults(null);
    upstream.setOptions({ usage: true, chunks: 20 });
    upstream.clearRequests();
  });

  it('answers a chat completion with echoed text and usage, and records the request', async () => {
    const res = await openai.chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'hello there' }],
      max_tokens: 4,
    });
    expect(res.choices[0]?.message.content).toBe('hello there hello there');
    expect(res.usage).toEqual({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(upstream.requests[0]?.headers.authorization).toBe('Bearer sk-upstream');
    expect(upstream.requests[0]?.body.model).toBe('fake-chat');
  });

  it('streams 20 chunks, then a usage chunk when include_usage is asked, then [DONE]', async () => {
    const stream = await openai.chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toHaveLength(21);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text.split(' ')).toHaveLength(20);
    expect(chunks[19]?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks[20]?.choices).toEqual([]);
    expect(chunks[20]?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 20, total_tokens: 23 });
  });

  it('never reports usage when started like an upstream without usage', async () => {
    upstream.setOptions({ usage: false, chunks: 3 });
    const res = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.usage).toBeUndefined();
    const stream = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toHaveLength(3);
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it('returns deterministic embeddings, floats and base64 alike', async () => {
    const floats = await openai.embeddings.create({
      model: 'fake-embed',
      input: ['a', 'b'],
      encoding_format: 'float',
    });
    // the SDK asks for base64 by default and decodes it to floats
    const decoded = await openai.embeddings.create({ model: 'fake-embed', input: ['a', 'b'] });
    expect(upstream.requests[1]?.body.encoding_format).toBe('base64');
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0]?.embedding).toHaveLength(16);
    expect(decoded.data[0]?.embedding).toEqual(floats.data[0]?.embedding);
    expect(decoded.data[1]?.embedding).toEqual(floats.data[1]?.embedding);
    expect(floats.data[0]?.embedding).not.toEqual(floats.data[1]?.embedding);
    expect(floats.usage.prompt_tokens).toBe(2);
  });

  it('answers with 429 and Retry-After for the next request of one model only', async () => {
    upstream.setFaults({ model: 'limited', status: 429, retryAfter: 7, times: 1 });
    const error = await openai.chat.completions
      .create({ model: 'limited', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
    const ok = await openai.chat.completions.create({
      model: 'limited',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.choices[0]?.message.content).toBeTruthy();
  });

  it('cuts a stream after K chunks without [DONE], and resets connections', async () => {
    upstream.setFaults({ cutAfterChunks: 5, times: 1 });
    const res = await fetch(`${upstream.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-upstream', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    const text = await res.text();
    expect(text.match(/^data: /gm)).toHaveLength(5);
    expect(text).not.toContain('[DONE]');

    upstream.setFaults({ reset: 'before-headers', times: 1 });
    const reset = await openai.models.list().catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('hangs without answering until the client times out', async () => {
    upstream.setFaults({ path: '/v1/chat/completions', hang: true, times: 1 });
    const error = await openai.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { timeout: 200 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('streams Anthropic-style message events', async () => {
    upstream.setOptions({ chunks: 2 });
    const res = await fetch(`${upstream.url}/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-upstream', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'fake-claude',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    });
    const events = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });
});
