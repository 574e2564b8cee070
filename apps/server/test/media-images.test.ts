import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
  tinyPng,
} from '@maas/testkit';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  createProvider,
  issueKey,
  openai,
  sleep,
  until,
  usageFor,
  v1,
} from './support/gateway-setup.ts';

/** /v1/images through the gateway with the stock openai SDK: metered per image by size and quality. */
let ts: TestServer;
let upstream: FakeUpstream;
let internal: Server;
let internalHits = 0;
let client: OpenAI;
let key: string;

const PERIOD = new Date().toISOString().slice(0, 7);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// USD per image
const PRICES = { '1024x1024:standard': 0.04, '1024x1024:hd': 0.08, '512x512': 0.018 };

/** The upload spools (private temporary directories) that exist now. */
const spools = () => readdirSync(tmpdir()).filter((d) => d.startsWith('maas-media-'));

/** The request id of the SDK's last answer. */
async function withId<T>(call: { withResponse(): Promise<{ data: T; response: Response }> }) {
  const { data, response } = await call.withResponse();
  return { data, id: response.headers.get('x-request-id')! };
}

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  // an address inside the platform's network, where a hostile upstream points its image URLs
  internal = createServer((_req, res) => {
    internalHits += 1;
    res.end('secret');
  });
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  const painter = await createModel(ts, {
    name: 'painter',
    type: 'image',
    targets: [{ provider_id: provider, upstream_model: 'fake-image' }],
  });
  await createModel(ts, {
    name: 'chatty',
    type: 'chat',
    targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
  });
  const price = await ts.admin.post('/api/v1/prices', {
    model_id: painter,
    currency: 'USD',
    input_per_million: 0,
    output_per_million: 0,
    image_prices: PRICES,
    effective_from: new Date(Date.now() - 60_000).toISOString(),
  });
  expect(price.status).toBe(201);
  expect(price.body.image_prices).toEqual(PRICES);
  key = (await issueKey(ts, { name: 'images' })).key;
  client = openai(ts, key);
});

afterAll(async () => {
  await ts?.close();
  await upstream?.close();
  internal?.close();
});

describe('images', () => {
  it('generates images (b64_json) and bills each by size and quality', async () => {
    const { data, id } = await withId(
      client.images.generate({
        model: 'painter',
        prompt: 'a red square',
        n: 2,
        quality: 'hd',
        size: '1024x1024',
      }),
    );
    expect(data.data).toHaveLength(2);
    const png = Buffer.from(data.data![0]!.b64_json!, 'base64');
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const sent = await upstream.waitForRequest((r) => r.path === '/v1/images/generations');
    expect(sent.body).toMatchObject({ model: 'fake-image', prompt: 'a red square', n: 2 });
    const row = await usageFor(ts, id);
    expect(row).toMatchObject({
      endpoint: 'images.generations',
      outcome: 'success',
      images: 2,
      imageSize: '1024x1024:hd',
      costNanos: 160_000_000,
    });
  });

  it('edits an uploaded image with a mask, and makes variations (multipart, passed on as sent)', async () => {
    const image = tinyPng(4);
    const edit = await withId(
      client.images.edit({
        model: 'painter',
        prompt: 'make it blue',
        image: await toFile(image, 'in.png', { type: 'image/png' }),
        mask: await toFile(tinyPng(4, [0, 0, 0]), 'mask.png', { type: 'image/png' }),
      }),
    );
    expect(edit.data.data).toHaveLength(1);
    const sent = await upstream.waitForRequest((r) => r.path === '/v1/images/edits');
    expect(sent.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent.body.model).toBe('fake-image');
    expect(sent.body.prompt).toBe('make it blue');
    expect(sent.body.image).toMatchObject({ filename: 'in.png', type: 'image/png', size: image.length });
    expect(Buffer.compare(sent.body.image.data, image)).toBe(0);
    expect(sent.body.mask).toMatchObject({ filename: 'mask.png' });
    expect(await usageFor(ts, edit.id)).toMatchObject({
      endpoint: 'images.edits',
      images: 1,
      imageSize: '1024x1024:standard',
      costNanos: 40_000_000,
    });

    const variation = await withId(
      client.images.createVariation({
        model: 'painter',
        image: await toFile(image, 'in.png', { type: 'image/png' }),
        size: '512x512',
        n: 3,
      }),
    );
    expect(variation.data.data).toHaveLength(3);
    expect(await usageFor(ts, variation.id)).toMatchObject({
      endpoint: 'images.variations',
      images: 3,
      imageSize: '512x512:standard',
      costNanos: 54_000_000, // 3 × 0.018: the size's price stands for any quality
    });
  });

  it('shows images in usage summaries and prices them exactly on the bill', async () => {
    const usage = await ts.admin.get('/api/v1/usage?group_by=model&model=painter&granularity=hour');
    expect(usage.status).toBe(200);
    expect(usage.body.totals[0]).toMatchObject({ images: 6, audio_seconds: 0, characters: 0, cost: 0.254 });
    const bill = await ts.admin.post('/api/v1/bills', { period: PERIOD });
    expect(bill.status).toBe(200);
    const line = bill.body.lines.find((l: { model: string }) => l.model === 'painter');
    expect(line).toMatchObject({ requests: 3, images: 6, cost: 0.254 });
    expect(bill.body.totals.USD).toMatchObject({ images: 6 });
  });

  it('refuses bad input with OpenAI-style 400s, before any upstream call', async () => {
    upstream.clearRequests();
    const bad = async (body: Record<string, unknown>, param: string) => {
      const res = await v1(ts, key, '/images/generations', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    };
    await bad({ model: 'painter' }, 'prompt');
    await bad({ model: 'painter', prompt: 'x', n: 11 }, 'n');
    await bad({ model: 'painter', prompt: 'x', n: 0 }, 'n');
    await bad({ model: 'painter', prompt: 'x', size: '999x999' }, 'size');
    await bad({ model: 'chatty', prompt: 'x' }, 'model');
    // an edit without its image file
    const form = new FormData();
    form.append('model', 'painter');
    form.append('prompt', 'no image');
    const res = await fetch(`${ts.url}/v1/images/edits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('image');
    // JSON where multipart is expected
    const json = await v1(ts, key, '/images/edits', { model: 'painter', prompt: 'x' });
    expect(json.status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses an upload over the limit with 413, sends nothing upstream and stores nothing', async () => {
    upstream.clearRequests();
    const before = new Set(spools());
    const huge = randomBytes(25 * 1024 * 1024 + 1);
    const err = await client.images
      .edit({ model: 'painter', prompt: 'big', image: await toFile(huge, 'big.png', { type: 'image/png' }) })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      type: 'invalid_request_error',
    });
    await sleep(100);
    expect(upstream.requests).toHaveLength(0);
    // what was spooled of it is gone (as is every upload's once its request ends)
    await until(() => spools().every((d) => before.has(d)), 5_000, 'upload spools removed');
  });

  it("applies the model's input guardrails to the prompt: blocked, never sent upstream", async () => {
    const guard = await ts.admin.post('/api/v1/guardrails', {
      name: 'no-nightingale',
      kind: 'deny_list',
      action: 'block',
      config: { keywords: ['Project Nightingale'] },
    });
    expect(guard.status).toBe(201);
    const models = await ts.admin.get('/api/v1/models');
    const painter = models.body.data.find((m: { name: string }) => m.name === 'painter').id;
    const attached = await ts.admin.post(`/api/v1/guardrails/${guard.body.id}/attachments`, {
      target_type: 'model',
      target_id: painter,
    });
    expect(attached.status).toBe(200);
    await sleep(200);
    upstream.clearRequests();
    try {
      const res = await v1(ts, key, '/images/generations', {
        model: 'painter',
        prompt: 'draw project nightingale',
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'content_policy_violation' });
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await ts.admin.delete(`/api/v1/guardrails/${guard.body.id}/attachments/${painter}`);
    }
  });
});

describe('hostile tenants', () => {
  it("gets 404 for another org's image model", async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Other images org' });
    const other = ts.client();
    await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const provider = await createProvider(ts, { name: 'theirs', base_url: upstream.url }, other);
    await createModel(
      ts,
      { name: 'their-painter', type: 'image', targets: [{ provider_id: provider, upstream_model: 'x' }] },
      other,
    );
    upstream.clearRequests();
    const res = await v1(ts, key, '/images/generations', { model: 'their-painter', prompt: 'steal' });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('hands on an upstream image URL that points inside the network and never fetches it', async () => {
    const secret = `http://127.0.0.1:${(internal.address() as AddressInfo).port}/secret.png`;
    upstream.setOptions({ imageUrl: secret });
    try {
      const { data, id } = await withId(
        client.images.generate({ model: 'painter', prompt: 'a url', response_format: 'url' }),
      );
      expect(data.data![0]!.url).toBe(secret);
      expect((await usageFor(ts, id)).images).toBe(1);
      await sleep(200);
      expect(internalHits).toBe(0);
    } finally {
      upstream.setOptions({ imageUrl: undefined });
    }
  });

  it('holds a budget in images: refused before the upstream once their cost would pass it', async () => {
    const { id, key: spender } = await issueKey(ts, { name: 'image-budget' });
    // 0.1 USD: two standard images (0.08) fit, a third (0.12) does not
    await ts.admin.post('/api/v1/limits', {
      scope: 'key',
      scope_id: id,
      budget: 0.1,
      budget_period: 'month',
    });
    await sleep(100);
    const c = openai(ts, spender);
    upstream.clearRequests();
    const tooMany = await v1(ts, spender, '/images/generations', { model: 'painter', prompt: 'x', n: 3 });
    expect(tooMany.status).toBe(429);
    expect(tooMany.body.error).toMatchObject({ type: 'insufficient_quota' });
    expect(upstream.requests).toHaveLength(0);
    await c.images.generate({ model: 'painter', prompt: 'one' });
    await c.images.generate({ model: 'painter', prompt: 'two' });
    const third = await v1(ts, spender, '/images/generations', { model: 'painter', prompt: 'three' });
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'insufficient_quota' });
    expect(upstream.requests.filter((r) => r.path === '/v1/images/generations')).toHaveLength(2);
  });
});
