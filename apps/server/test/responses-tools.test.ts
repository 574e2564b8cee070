import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, usageFor } from './support/gateway-setup.ts';

/**
 * Function tools on /v1/responses with the stock `openai` SDK: the model's call comes back as a
 * `function_call` item (JSON and streamed), its output goes back as `function_call_output` (inline
 * or chained by previous_response_id), and what the gateway cannot serve is refused with OpenAI's
 * 400 naming the field.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let key: string;

const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
  upstream = await startFakeUpstream({ chunks: 4 });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'chat-small',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  key = await createKey(ts);
  client = openai(ts, key);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

async function post(body: unknown) {
  const res = await fetch(`${ts.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { error: Record<string, unknown> },
    requestId: res.headers.get('x-request-id'),
  };
}

describe('function tools', () => {
  it('round trip: function_call item, then function_call_output chained by previous_response_id', async () => {
    upstream.clearRequests();
    const first = await client.responses.create({
      model: 'chat-small',
      input: 'Paris',
      tools: [weather],
      tool_choice: { type: 'function', name: 'get_weather' },
    });
    expect(first.output).toEqual([
      {
        id: expect.stringMatching(/^fc_/),
        type: 'function_call',
        status: 'completed',
        call_id: 'call_fake_1',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      },
    ]);
    expect(upstream.requests[0]!.body).toMatchObject({
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'The weather in a city',
            parameters: weather.parameters,
            strict: true,
          },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;

    const second = await client.responses.create({
      model: 'chat-small',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny and warm today' }],
      tools: [weather],
    });
    expect(second.output_text).toBe('sunny and warm today');
    expect(second.previous_response_id).toBe(first.id);
    // the upstream saw the whole turn: the user, the assistant's call, the tool's answer
    expect(upstream.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'Paris' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_fake_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_fake_1', content: 'sunny and warm today' },
    ]);
    const items = await client.responses.inputItems.list(second.id, { order: 'asc' });
    expect(items.data.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output']);
  });

  it('streams a call as output_item.added, function_call_arguments.delta/done, output_item.done', async () => {
    const stream = client.responses.stream({ model: 'chat-small', input: 'Rome', tools: [weather] });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    const final = await stream.finalResponse();
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(final.output[0]).toMatchObject({
      type: 'function_call',
      name: 'get_weather',
      arguments: '{"city":"Rome"}',
    });

    // the output sent inline, with the call itself, in one request (no chaining)
    const answer = await client.responses.create({
      model: 'chat-small',
      input: [
        { role: 'user', content: 'Rome' },
        final.output[0] as OpenAI.Responses.ResponseFunctionToolCall,
        {
          type: 'function_call_output',
          call_id: (final.output[0] as { call_id: string }).call_id,
          output: 'rainy',
        },
      ],
      tools: [weather],
    });
    expect(answer.output_text).toBe('rainy rainy rainy rainy');
  });

  it('tool_choice none answers in text', async () => {
    const res = await client.responses.create({
      model: 'chat-small',
      input: 'just talk',
      tools: [weather],
      tool_choice: 'none',
    });
    expect(res.output).toMatchObject([{ type: 'message' }]);
  });
});

describe('refusals in OpenAI’s shape', () => {
  it.each([
    ['web_search', { type: 'web_search' }],
    [
      'computer_use_preview',
      { type: 'computer_use_preview', display_width: 1, display_height: 1, environment: 'linux' },
    ],
  ])('refuses a %s tool with a 400 naming the type, metered as rejected', async (type, tool) => {
    const res = await post({ model: 'chat-small', input: 'hi', tools: [weather, tool] });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      message: `Tool type '${type}' is not supported by this gateway; only 'function' and 'file_search' tools are.`,
      type: 'invalid_request_error',
      param: 'tools[1].type',
      code: 'validation_failed',
    });
    const usage = await usageFor(ts, res.requestId!);
    expect(usage).toMatchObject({ endpoint: 'responses', outcome: 'rejected', httpStatus: 400 });
  });

  it('refuses a file_search tool whose vector store is not found, naming it, metered as rejected', async () => {
    const res = await post({
      model: 'chat-small',
      input: 'hi',
      tools: [weather, { type: 'file_search', vector_store_ids: ['vs_1'] }],
    });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ type: 'not_found_error', param: 'tools[1].vector_store_ids[0]' });
    const usage = await usageFor(ts, res.requestId!);
    expect(usage).toMatchObject({ endpoint: 'responses', outcome: 'rejected', httpStatus: 404 });
  });

  it.each([
    [{ model: 'chat-small' }, 'input'],
    [{ model: 'chat-small', input: 42 }, 'input'],
    [{ model: 'chat-small', input: [{ role: 'robot', content: 'x' }] }, 'input[0].role'],
    [{ model: 'chat-small', input: [{ type: 'function_call_output', output: 'x' }] }, 'input[0].call_id'],
    [
      { model: 'chat-small', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
      'input[0].content[0].type',
    ],
    [{ model: 'chat-small', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
    [{ model: 'chat-small', input: 'x', temperature: 5 }, 'temperature'],
    [{ model: 'chat-small', input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    [{ model: 'chat-small', input: 'x', tools: [{ type: 'function' }] }, 'tools[0].name'],
    [
      { model: 'chat-small', input: 'x', text: { format: { type: 'json_schema', schema: {} } } },
      'text.format.name',
    ],
    [{ model: 'chat-small', input: 'x', background: true, store: false }, 'background'],
    [{ model: 'chat-small', input: 'x', tool_choice: { type: 'web_search' } }, 'tool_choice.type'],
    [{ input: 'x' }, 'model'],
  ])('refuses %j with a 400 naming %s', async (body, param) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('answers a body that is not JSON, or not an object, with a 400', async () => {
    expect((await post('{nope')).status).toBe(400);
    const res = await post('[1,2]');
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
  });

  it('answers an unknown model with a 404 and an unknown response id with a 404', async () => {
    const res = await post({ model: 'no-such-model', input: 'x' });
    expect(res.status).toBe(404);
    await expect(client.responses.retrieve('resp_nope')).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.inputItems.list('resp_nope')).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.cancel('resp_nope')).rejects.toMatchObject({ status: 404 });
  });
});
