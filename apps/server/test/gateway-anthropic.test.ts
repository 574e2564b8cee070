import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, usageFor } from './support/gateway-setup.ts';

/** An Anthropic Messages upstream behind the OpenAI surface, translated both ways, streams included. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let provider: string;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
  upstream = await startFakeUpstream({ apiKey: 'anthropic-secret', chunks: 4 });
  provider = await createProvider(ts, {
    name: 'claude',
    type: 'anthropic',
    base_url: upstream.baseUrl,
    api_key: 'anthropic-secret',
  });
  await createModel(ts, {
    name: 'claude',
    targets: [{ provider_id: provider, upstream_model: 'fake-claude' }],
  });
  client = openai(ts, await createKey(ts));
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('anthropic provider', () => {
  it('translates a chat request into a Messages request and the answer back', async () => {
    upstream.clearRequests();
    const { data, request_id } = await client.chat.completions
      .create({
        model: 'claude',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hello anthropic friend' },
        ],
        max_tokens: 50,
        temperature: 1.5,
        stop: 'END',
        tools: [
          {
            type: 'function',
            function: {
              name: 'lookup',
              description: 'look up',
              parameters: { type: 'object', properties: { q: { type: 'string' } } },
            },
          },
        ],
        tool_choice: 'required',
      })
      .withResponse();
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('anthropic-secret');
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.body).toMatchObject({
      model: 'fake-claude',
      system: 'be brief',
      max_tokens: 50,
      temperature: 1,
      stop_sequences: ['END'],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello anthropic friend' }] }],
      tools: [{ name: 'lookup', description: 'look up', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
    });
    expect(data).toMatchObject({
      object: 'chat.completion',
      model: 'claude',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'hello anthropic friend hello' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
    });
    expect(await usageFor(ts, request_id!)).toMatchObject({
      outcome: 'success',
      promptTokens: 5,
      completionTokens: 4,
      estimated: false,
    });
  });

  it('translates assistant tool calls and tool results into Anthropic blocks', async () => {
    upstream.clearRequests();
    await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'rainy' },
      ],
    });
    expect(upstream.requests[0]!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'rainy' }] },
    ]);
  });

  it('translates a Messages stream into OpenAI chunks, with usage when asked', async () => {
    const { data: stream, request_id } = await client.chat.completions
      .create({
        model: 'claude',
        messages: [{ role: 'user', content: 'stream this please' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('stream this please stream');
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks[chunks.length - 1]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4 },
    });
    expect(await usageFor(ts, request_id!)).toMatchObject({
      outcome: 'success',
      stream: true,
      promptTokens: 3,
      completionTokens: 4,
    });
  });

  it('streams without the usage chunk when not asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
  });

  it('maps an Anthropic error to OpenAI’s shape', async () => {
    upstream.setFaults({
      model: 'fake-claude',
      status: 400,
      message: 'messages: roles must alternate',
      times: 1,
    });
    await expect(
      client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: expect.stringContaining('roles must alternate'),
    });
  });

  it('refuses to register an Anthropic target for an embedding model', async () => {
    const res = await ts.admin.post('/api/v1/models', {
      name: 'claude-embed',
      type: 'embedding',
      targets: [{ provider_id: provider, upstream_model: 'x' }],
    });
    expect(res.status).toBe(422);
  });
});
