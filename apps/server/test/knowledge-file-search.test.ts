import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, until, v1 } from './support/gateway-setup.ts';

/**
 * `file_search` tools emulated for upstreams that lack them (the fake upstream, like vLLM or
 * llama.cpp, knows no hosted tools): maas searches, hands the model the sources, and answers with a
 * `file_search_call` item and `file_citation` annotations (Responses API) or `citations` (chat).
 */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let other: OpenAI;
let otherKey: string;
let storeId: string;
let fileId: string;
const FACT = 'The observatory on Mount Kesh opened in 1887 and houses a brass refractor.';
// the fake upstream echoes the question's words: its answer starts with the citation marker
const QUESTION = '[1] when did the observatory on Mount Kesh open?';

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ chunks: 6 });
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: provider, upstream_model: 'fake-embed' }],
  });
  await createModel(ts, { name: 'chat', targets: [{ provider_id: provider, upstream_model: 'fake-chat' }] });
  client = openai(ts, await createKey(ts));
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant B' });
  const b = ts.client();
  await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const bProvider = await createProvider(ts, { name: 'b-fake', base_url: upstream.url }, b);
  await createModel(
    ts,
    { name: 'chat', targets: [{ provider_id: bProvider, upstream_model: 'fake-chat' }] },
    b,
  );
  const bProject = (await b.get('/api/v1/projects')).body.data[0].id;
  otherKey = await createKey(ts, { project_id: bProject }, b);
  other = openai(ts, otherKey);
  fileId = (
    await client.files.create({ file: await toFile(Buffer.from(FACT), 'kesh.txt'), purpose: 'assistants' })
  ).id;
  storeId = (await client.vectorStores.create({ name: 'facts', file_ids: [fileId] })).id;
  await until(
    async () =>
      (await client.vectorStores.files.retrieve(fileId, { vector_store_id: storeId })).status === 'completed',
    60_000,
    'ingestion',
  );
}, 90_000);
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

const sentToUpstream = () => upstream.requests.find((r) => r.path === '/v1/chat/completions')!.body;

describe('file_search in the Responses API', () => {
  it('searches, gives the upstream the sources and no hosted tool, and answers with the call and citations', async () => {
    upstream.clearRequests();
    const response = await client.responses.create({
      model: 'chat',
      input: QUESTION,
      instructions: 'Be brief.',
      tools: [{ type: 'file_search', vector_store_ids: [storeId], max_num_results: 3 }],
      include: ['file_search_call.results'],
    });
    const [call, message] = response.output as [
      OpenAI.Responses.ResponseFileSearchToolCall,
      OpenAI.Responses.ResponseOutputMessage,
    ];
    expect(call).toMatchObject({ type: 'file_search_call', status: 'completed', queries: [QUESTION] });
    expect(call.id).toMatch(/^fs_/);
    expect(call.results![0]).toMatchObject({ file_id: fileId, filename: 'kesh.txt', text: FACT });
    expect(call.results![0]!.score).toBeGreaterThan(0);
    const text = message.content[0] as OpenAI.Responses.ResponseOutputText;
    expect(text.text.startsWith('[1]')).toBe(true);
    expect(text.annotations).toEqual([
      { type: 'file_citation', index: 0, file_id: fileId, filename: 'kesh.txt' },
    ]);
    const sent = sentToUpstream();
    expect(sent.tools).toBeUndefined();
    expect(sent.tool_choice).toBeUndefined();
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(sent.messages[1].content).toContain(`[1] kesh.txt\n${FACT}`);
    // stored as answered
    const again = await client.responses.retrieve(response.id);
    expect(again.output[0]).toMatchObject({ type: 'file_search_call', id: call.id });
  });

  it('leaves the results out unless include asks for them; function tools still reach the upstream', async () => {
    upstream.clearRequests();
    const response = await client.responses.create({
      model: 'chat',
      input: QUESTION,
      tools: [
        { type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} }, strict: false },
        { type: 'file_search', vector_store_ids: [storeId] },
      ],
    });
    expect(response.output[0]).toMatchObject({ type: 'file_search_call', results: null });
    const sent = sentToUpstream();
    expect(sent.tools).toHaveLength(1);
    expect(sent.tools[0].function.name).toBe('lookup');
  });

  it('streams the file_search_call first, as the SDK accumulates it', async () => {
    const stream = client.responses.stream({
      model: 'chat',
      input: QUESTION,
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      include: ['file_search_call.results'],
    });
    const types: string[] = [];
    stream.on('event', (e) => types.push(e.type));
    const final = await stream.finalResponse();
    expect(final.output.map((o) => o.type)).toEqual(['file_search_call', 'message']);
    expect((final.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).results![0]!.file_id).toBe(
      fileId,
    );
    const content = (final.output[1] as OpenAI.Responses.ResponseOutputMessage)
      .content[0] as OpenAI.Responses.ResponseOutputText;
    expect(content.annotations[0]).toMatchObject({ type: 'file_citation', file_id: fileId });
    expect(types.indexOf('response.file_search_call.completed')).toBeGreaterThan(
      types.indexOf('response.created'),
    );
    expect(types.indexOf('response.file_search_call.completed')).toBeLessThan(
      types.indexOf('response.output_text.delta'),
    );
  });

  it('runs the search of a background response before it is queued', async () => {
    const queued = await client.responses.create({
      model: 'chat',
      input: QUESTION,
      background: true,
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
    });
    expect(queued.output[0]).toMatchObject({ type: 'file_search_call' });
    const done = await until(async () => {
      const r = await client.responses.retrieve(queued.id);
      return r.status === 'completed' ? r : null;
    }, 20_000);
    expect(done.output.map((o) => o.type)).toEqual(['file_search_call', 'message']);
  });

  it("refuses another org's vector store (404 naming it) and a malformed tool (400)", async () => {
    const foreign = await v1(ts, otherKey, '/responses', {
      model: 'chat',
      input: QUESTION,
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({
      type: 'not_found_error',
      param: 'tools[0].vector_store_ids[0]',
    });
    await expect(
      other.responses.create({
        model: 'chat',
        input: 'x',
        tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
        background: true,
      }),
    ).rejects.toMatchObject({ status: 404 });
    const bad = await client.responses
      .create({ model: 'chat', input: 'x', tools: [{ type: 'file_search' } as never] })
      .catch((e) => e);
    expect(bad).toMatchObject({ status: 400, error: { param: 'tools[0].vector_store_ids' } });
  });
});

describe('file_search in chat completions', () => {
  it('takes the tool out, retrieves, and answers with citations', async () => {
    upstream.clearRequests();
    const answer = (await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: QUESTION }],
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }] as never,
    })) as unknown as { citations: { index: number; file_id: string }[] };
    expect(answer.citations[0]).toMatchObject({ index: 1, file_id: fileId });
    const sent = sentToUpstream();
    expect(sent.tools).toBeUndefined();
    expect(sent.messages[0].content).toContain(FACT);
  });

  it("refuses another org's vector store in the tool", async () => {
    await expect(
      other.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: QUESTION }],
        tools: [{ type: 'file_search', vector_store_ids: [storeId] }] as never,
      }),
    ).rejects.toMatchObject({ status: 404, error: { param: 'tools[0].vector_store_ids[0]' } });
  });
});
