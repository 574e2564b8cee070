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
import { createKey, createModel, createProvider, openai, until } from './support/gateway-setup.ts';

/** RAG chat: /v1/chat/completions with a `knowledge` extension retrieves, injects sources, cites them. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let other: OpenAI;
let storeId: string;
let fileId: string;
const FACT = 'The observatory on Mount Kesh opened in 1887 and houses a brass refractor.';

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
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
  other = openai(ts, await createKey(ts, { project_id: bProject }, b));
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

const ask = (c: OpenAI, extra: object, stream = false) =>
  c.chat.completions.create({
    model: 'chat',
    messages: [{ role: 'user', content: FACT }],
    stream,
    ...extra,
  } as never);

describe('chat with knowledge', () => {
  it('injects numbered sources as a system message and answers with citations', async () => {
    upstream.clearRequests();
    const answer = (await ask(client, {
      knowledge: { vector_store_ids: [storeId], top_k: 3 },
    })) as unknown as {
      choices: unknown[];
      citations: { index: number; file_id: string; filename: string; chunk_id: string; score: number }[];
    };
    expect(answer.choices).toHaveLength(1);
    expect(answer.citations).toHaveLength(1);
    expect(answer.citations[0]).toMatchObject({ index: 1, file_id: fileId, filename: 'kesh.txt' });
    expect(answer.citations[0]!.chunk_id).toMatch(/^kc_/);
    const sent = upstream.requests.find((r) => r.path === '/v1/chat/completions')!.body;
    expect(sent.knowledge).toBeUndefined();
    expect(sent.messages[0].role).toBe('system');
    expect(sent.messages[0].content).toContain(`[1] kesh.txt\n${FACT}`);
    expect(sent.messages.at(-1)).toEqual({ role: 'user', content: FACT });
  });

  it('gives a stream its citations in the x-maas-citations header', async () => {
    const { response } = await client.chat.completions
      .create({
        model: 'chat',
        messages: [{ role: 'user', content: FACT }],
        stream: true,
        ...({ knowledge: { vector_store_ids: [storeId] } } as object),
      })
      .withResponse();
    const citations = JSON.parse(response.headers.get('x-maas-citations')!);
    expect(citations[0]).toMatchObject({ index: 1, file_id: fileId });
    await response.body?.cancel();
  });

  it("refuses another org's store (404) and a bad knowledge field (400)", async () => {
    await expect(ask(other, { knowledge: { vector_store_ids: [storeId] } })).rejects.toMatchObject({
      status: 404,
    });
    await expect(ask(client, { knowledge: { vector_store_ids: [] } })).rejects.toMatchObject({
      status: 400,
      error: { type: 'invalid_request_error', param: 'knowledge' },
    });
    await expect(ask(client, { knowledge: 'yes' })).rejects.toMatchObject({ status: 400 });
    // without the field, chat is untouched
    const plain = (await ask(client, {})) as unknown as Record<string, unknown>;
    expect(plain.citations).toBeUndefined();
  });
});
