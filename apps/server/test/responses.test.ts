import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, usageFor } from './support/gateway-setup.ts';

/**
 * The Responses API on /v1 with the stock `openai` SDK, onto an OpenAI-compatible model (the fake
 * upstream on a real socket): translated to chat completions, streamed as Responses events, stored
 * by maas, metered once per response under the endpoint label `responses`.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
  upstream = await startFakeUpstream({ chunks: 5 });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'chat-small',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  client = openai(ts, await createKey(ts));
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('POST /v1/responses', () => {
  it('answers a string input with instructions as a response object, stored and metered once', async () => {
    upstream.clearRequests();
    const { data, response } = await client.responses
      .create({
        model: 'chat-small',
        instructions: 'you are terse',
        input: 'hello there gateway',
        max_output_tokens: 50,
        temperature: 0.3,
        top_p: 0.9,
        metadata: { run: 'one' },
      })
      .withResponse();
    expect(data).toMatchObject({
      id: expect.stringMatching(/^resp_/),
      object: 'response',
      status: 'completed',
      model: 'chat-small',
      instructions: 'you are terse',
      max_output_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      metadata: { run: 'one' },
      store: true,
      background: false,
      previous_response_id: null,
      output: [
        {
          id: expect.stringMatching(/^msg_/),
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'hello there gateway hello there', annotations: [] }],
        },
      ],
      usage: { input_tokens: 6, output_tokens: 5, total_tokens: 11 },
    });
    expect(data.output_text).toBe('hello there gateway hello there');
    expect(upstream.requests[0]!.path).toBe('/v1/chat/completions');
    expect(upstream.requests[0]!.body).toMatchObject({
      model: 'fake-chat',
      messages: [
        { role: 'system', content: 'you are terse' },
        { role: 'user', content: 'hello there gateway' },
      ],
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
    });
    expect(upstream.requests[0]!.body.metadata).toBeUndefined();

    const requestId = response.headers.get('x-request-id')!;
    const usage = await usageFor(ts, requestId);
    expect(usage).toMatchObject({
      endpoint: 'responses',
      outcome: 'success',
      modelName: 'chat-small',
      promptTokens: 6,
      completionTokens: 5,
      stream: false,
    });

    const again = await client.responses.retrieve(data.id);
    expect(again).toMatchObject({ id: data.id, status: 'completed', output: data.output, usage: data.usage });
  });

  it('streams the event sequence the SDK accumulates, and stores the streamed response', async () => {
    const stream = client.responses.stream({ model: 'chat-small', input: 'stream me please' });
    const types: string[] = [];
    const deltas: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') deltas.push(event.delta);
    }
    const final = await stream.finalResponse();
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-5)).toEqual([
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(deltas.join('')).toBe('stream me please stream me');
    expect(final.output_text).toBe('stream me please stream me');
    expect(final.status).toBe('completed');
    expect(final.usage).toMatchObject({ input_tokens: 3, output_tokens: 5, total_tokens: 8 });
    const stored = await client.responses.retrieve(final.id);
    expect(final.output).toMatchObject(stored.output);
    expect(stored.output_text).toBe('stream me please stream me');
  });

  it('streams with stream: true as raw events with increasing sequence numbers, metered once', async () => {
    const { data: events, response } = await client.responses
      .create({ model: 'chat-small', input: 'raw stream', stream: true })
      .withResponse();
    const seen: { type: string; sequence_number: number }[] = [];
    let completed: OpenAI.Responses.Response | null = null;
    for await (const e of events) {
      seen.push({ type: e.type, sequence_number: e.sequence_number });
      if (e.type === 'response.completed') completed = e.response;
    }
    expect(seen.map((e) => e.sequence_number)).toEqual(seen.map((_, i) => i));
    expect(completed?.output[0]).toMatchObject({
      type: 'message',
      content: [{ text: 'raw stream raw stream raw' }],
    });
    const usage = await usageFor(ts, response.headers.get('x-request-id')!);
    expect(usage).toMatchObject({ endpoint: 'responses', stream: true, completionTokens: 5 });
  });

  it('ends as incomplete when max_output_tokens cuts the answer', async () => {
    const res = await client.responses.create({
      model: 'chat-small',
      input: 'a b c d e f',
      max_output_tokens: 2,
    });
    expect(res.status).toBe('incomplete');
    expect(res.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    const stream = client.responses.stream({
      model: 'chat-small',
      input: 'a b c d e f',
      max_output_tokens: 2,
    });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    expect(types[types.length - 1]).toBe('response.incomplete');
  });

  it('sends text.format json_schema as response_format, input images as image_url parts, reasoning effort', async () => {
    upstream.clearRequests();
    await client.responses.create({
      model: 'chat-small',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'what is this' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
          ],
        },
      ],
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'low' },
    });
    expect(upstream.requests[0]!.body).toMatchObject({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
          ],
        },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
      reasoning_effort: 'low',
    });
  });

  it('store: false answers but keeps nothing: not retrievable, cannot be chained', async () => {
    const res = await client.responses.create({ model: 'chat-small', input: 'forget me', store: false });
    expect(res).toMatchObject({ status: 'completed', store: false });
    await expect(client.responses.retrieve(res.id)).rejects.toMatchObject({ status: 404 });
    const chained = client.responses.create({
      model: 'chat-small',
      input: 'again',
      previous_response_id: res.id,
    });
    await expect(chained).rejects.toMatchObject({
      status: 404,
      code: 'previous_response_not_found',
      param: 'previous_response_id',
      message: `404 Previous response with id '${res.id}' not found.`,
    });
  });

  it('lists input items (after, limit, order) and deletes', async () => {
    const first = await client.responses.create({
      model: 'chat-small',
      input: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'three' },
      ],
    });
    const desc = await client.responses.inputItems.list(first.id);
    expect(desc.data.map((i) => (i as { content: { text: string }[] }).content[0]!.text)).toEqual([
      'three',
      'two',
      'one',
    ]);
    const page = await client.responses.inputItems.list(first.id, { order: 'asc', limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    const next = await client.responses.inputItems.list(first.id, {
      order: 'asc',
      limit: 2,
      after: page.data[1]!.id!,
    });
    expect(next.data.map((i) => (i as { role: string }).role)).toEqual(['user']);
    expect(next.has_more).toBe(false);
    // the SDK's auto-pagination walks every page
    const all = [];
    for await (const item of client.responses.inputItems.list(first.id, { limit: 1 })) all.push(item);
    expect(all).toHaveLength(3);

    await client.responses.delete(first.id);
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.delete(first.id)).rejects.toMatchObject({ status: 404 });
  });

  it('ends a stream the upstream cut with response.failed, and stores it as failed', async () => {
    upstream.setFaults({ model: 'fake-chat', cutAfterChunks: 2, times: 1 });
    const events = await client.responses.create({
      model: 'chat-small',
      input: 'cut me short',
      stream: true,
    });
    const types: string[] = [];
    let failed: OpenAI.Responses.Response | null = null;
    for await (const e of events) {
      types.push(e.type);
      if (e.type === 'response.failed') failed = e.response;
    }
    expect(types.slice(-2)).toEqual(['response.output_item.done', 'response.failed']);
    expect(failed?.error).toMatchObject({ code: 'server_error' });
    expect((await client.responses.retrieve(failed!.id)).status).toBe('failed');
  });

  it('documents the routes in /openapi.json', async () => {
    const doc = (await (await fetch(`${ts.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/responses',
        '/v1/responses/{id}',
        '/v1/responses/{id}/cancel',
        '/v1/responses/{id}/input_items',
      ]),
    );
  });

  it('refuses a cancel of a response that is not background', async () => {
    const res = await client.responses.create({ model: 'chat-small', input: 'x' });
    await expect(client.responses.cancel(res.id)).rejects.toMatchObject({
      status: 400,
      message: '400 Only responses created with background=true can be cancelled.',
    });
  });
});
