import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, openai, usageFor, v1 } from './support/gateway-setup.ts';

/** Embeddings and rerank through the gateway, float and base64 exactly as the openai SDK expects. */
let ts: TestServer;
let upstream: FakeUpstream;
let floatsOnly: Server;
let client: OpenAI;
let key: string;

const VECTOR = [0.5, -0.25, 0.125, 1.5];

/** An upstream that ignores encoding_format and always answers with floats (as some servers do). */
async function startFloatsOnlyUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"object":"list","data":[{"id":"floaty"}]}');
      return;
    }
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const input = JSON.parse(body).input;
      const inputs = Array.isArray(input) ? input : [input];
      const payload = JSON.stringify({
        object: 'list',
        model: 'floaty',
        data: inputs.map((_: unknown, index: number) => ({ object: 'embedding', index, embedding: VECTOR })),
        usage: { prompt_tokens: 7, total_tokens: 7 },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const floaty = await startFloatsOnlyUpstream();
  floatsOnly = floaty.server;
  const fake = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  const floats = await createProvider(ts, { name: 'floats-only', base_url: floaty.url });
  await createModel(ts, {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: fake, upstream_model: 'fake-embed' }],
  });
  await createModel(ts, {
    name: 'embed-floats',
    type: 'embedding',
    targets: [{ provider_id: floats, upstream_model: 'floaty' }],
  });
  await createModel(ts, {
    name: 'rerank',
    type: 'rerank',
    targets: [{ provider_id: fake, upstream_model: 'fake-rerank' }],
  });
  key = await createKey(ts);
  client = openai(ts, key);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
  floatsOnly?.closeAllConnections();
  await new Promise((r) => floatsOnly?.close(r));
});

describe('embeddings', () => {
  it('answers the SDK’s default (it asks for base64 and decodes it) with the upstream’s numbers', async () => {
    upstream.clearRequests();
    const { data, request_id } = await client.embeddings
      .create({ model: 'embed', input: ['alpha', 'beta'] })
      .withResponse();
    expect(upstream.requests[0]!.body.encoding_format).toBe('base64');
    expect(data.data).toHaveLength(2);
    const asFloats = await client.embeddings.create({
      model: 'embed',
      input: ['alpha', 'beta'],
      encoding_format: 'float',
    });
    expect(data.data[0]!.embedding).toEqual(asFloats.data[0]!.embedding);
    expect(data.data[0]!.embedding).toHaveLength(16);
    expect(await usageFor(ts, request_id!)).toMatchObject({
      outcome: 'success',
      endpoint: 'embeddings',
      promptTokens: 2,
    });
  });

  it('answers encoding_format float with float arrays', async () => {
    const res = await v1(ts, key, '/embeddings', {
      model: 'embed',
      input: 'gamma',
      encoding_format: 'float',
    });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.data[0].embedding)).toBe(true);
  });

  it('converts to little-endian float32 base64 when the upstream ignores base64', async () => {
    const raw = await v1(ts, key, '/embeddings', {
      model: 'embed-floats',
      input: 'x',
      encoding_format: 'base64',
    });
    const buf = Buffer.from(raw.body.data[0].embedding, 'base64');
    expect(buf.length).toBe(VECTOR.length * 4);
    expect([0, 1, 2, 3].map((i) => buf.readFloatLE(i * 4))).toEqual(VECTOR);
    const viaSdk = await client.embeddings.create({ model: 'embed-floats', input: 'x' });
    expect(viaSdk.data[0]!.embedding).toEqual(VECTOR);
    expect(viaSdk.usage).toEqual({ prompt_tokens: 7, total_tokens: 7 });
  });

  it('refuses a chat call on an embedding model and a missing input', async () => {
    const wrong = await v1(ts, key, '/chat/completions', {
      model: 'embed',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
    const missing = await v1(ts, key, '/embeddings', { model: 'embed' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
  });
});

describe('rerank', () => {
  it('ranks documents against a query', async () => {
    const res = await v1(ts, key, '/rerank', {
      model: 'rerank',
      query: 'red apples',
      documents: ['green pears', 'red apples are sweet', 'blue sky'],
      top_n: 2,
      return_documents: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(2);
    expect(res.body.results[0]).toMatchObject({ index: 1, document: { text: 'red apples are sweet' } });
    const row = await usageFor(ts, res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ outcome: 'success', endpoint: 'rerank', estimated: false });
    expect(row.promptTokens).toBeGreaterThan(0);
  });
});
