import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedResponses } from '../src/modules/gateway/responses/schema.ts';
import { createModel, createProvider, issueKey, openai, usageOfKey } from './support/gateway-setup.ts';

/**
 * previous_response_id is answered from maas's own store, so a conversation moves between models
 * of different providers (the second provider sees the whole conversation), stays inside its
 * project (another org's or project's key finds nothing and cannot chain), and expires.
 */
let ts: TestServer;
let upstreamA: FakeUpstream;
let upstreamB: FakeUpstream;
let client: OpenAI;
let keyId: string;
let otherOrg: OpenAI;
let otherProject: OpenAI;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '0' });
  upstreamA = await startFakeUpstream({ chunks: 3 });
  upstreamB = await startFakeUpstream({ chunks: 3 });
  const a = await createProvider(ts, { name: 'provider-a', base_url: upstreamA.url });
  const b = await createProvider(ts, { name: 'provider-b', base_url: upstreamB.url });
  await createModel(ts, { name: 'model-a', targets: [{ provider_id: a, upstream_model: 'upstream-a' }] });
  await createModel(ts, { name: 'model-b', targets: [{ provider_id: b, upstream_model: 'upstream-b' }] });
  const issued = await issueKey(ts);
  keyId = issued.id;
  client = openai(ts, issued.key);

  const project = (await ts.admin.post('/api/v1/projects', { name: 'responses-other-project' })).body.id;
  otherProject = openai(ts, (await issueKey(ts, { project_id: project })).key);

  const org = await ts.admin.post('/api/v1/orgs', { name: 'Responses Tenant B' });
  const tenant = ts.client();
  await tenant.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const bProvider = await createProvider(ts, { name: 'b-fake', base_url: upstreamB.url }, tenant);
  await createModel(
    ts,
    { name: 'b-model', targets: [{ provider_id: bProvider, upstream_model: 'b-up' }] },
    tenant,
  );
  const bProject = (await tenant.get('/api/v1/projects')).body.data[0].id;
  otherOrg = openai(ts, (await issueKey(ts, { project_id: bProject }, tenant)).key);
});
/** the chat completions an upstream was sent (provider probes left out) */
const chats = (u: FakeUpstream) => u.requests.filter((r) => r.path === '/v1/chat/completions');

afterAll(async () => {
  await ts?.close();
  await upstreamA?.close();
  await upstreamB?.close();
});

describe('previous_response_id', () => {
  let first: OpenAI.Responses.Response;

  it('chains a conversation from provider A to provider B; B sees every turn', async () => {
    first = await client.responses.create({
      model: 'model-a',
      instructions: 'first instructions',
      input: 'alpha beta gamma',
    });
    expect(first.output_text).toBe('alpha beta gamma');
    expect(chats(upstreamA)).toHaveLength(1);

    const second = await client.responses.create({
      model: 'model-b',
      previous_response_id: first.id,
      instructions: 'second instructions',
      input: [{ role: 'user', content: 'delta epsilon' }],
    });
    expect(second).toMatchObject({ model: 'model-b', previous_response_id: first.id, status: 'completed' });
    expect(chats(upstreamB)).toHaveLength(1);
    // instructions are the request's own (the previous ones are not carried over), as OpenAI does
    expect(chats(upstreamB)[0]!.body).toMatchObject({
      model: 'upstream-b',
      messages: [
        { role: 'system', content: 'second instructions' },
        { role: 'user', content: 'alpha beta gamma' },
        { role: 'assistant', content: 'alpha beta gamma' },
        { role: 'user', content: 'delta epsilon' },
      ],
    });

    // a third turn, streamed, back on provider A, carries all of it
    const stream = client.responses.stream({
      model: 'model-a',
      previous_response_id: second.id,
      input: 'zeta',
    });
    const third = await stream.finalResponse();
    expect(third.previous_response_id).toBe(second.id);
    expect(chats(upstreamA)[1]!.body.messages).toEqual([
      { role: 'user', content: 'alpha beta gamma' },
      { role: 'assistant', content: 'alpha beta gamma' },
      { role: 'user', content: 'delta epsilon' },
      { role: 'assistant', content: 'delta epsilon delta' },
      { role: 'user', content: 'zeta' },
    ]);
    const items = await client.responses.inputItems.list(third.id, { order: 'asc', limit: 100 });
    expect(items.data.map((i) => (i as { role?: string }).role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
    // one usage row per response, under the endpoint label `responses`
    const rows = await usageOfKey(ts, keyId, 3);
    expect(rows.filter((r) => r.endpoint === 'responses')).toHaveLength(3);
    expect(rows.map((r) => r.modelName).sort()).toEqual(['model-a', 'model-a', 'model-b']);
  });

  it('keeps a response inside its project: another org or project gets 404 and cannot chain onto it', async () => {
    for (const intruder of [otherOrg, otherProject]) {
      await expect(intruder.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
      await expect(intruder.responses.inputItems.list(first.id)).rejects.toMatchObject({ status: 404 });
      await expect(intruder.responses.cancel(first.id)).rejects.toMatchObject({ status: 404 });
      await expect(intruder.responses.delete(first.id)).rejects.toMatchObject({ status: 404 });
      const model = intruder === otherOrg ? 'b-model' : 'model-a';
      await expect(
        intruder.responses.create({ model, previous_response_id: first.id, input: 'steal' }),
      ).rejects.toMatchObject({ status: 404, code: 'previous_response_not_found' });
    }
    // still there for its owner
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
  });

  it('answers an unknown previous_response_id with OpenAI’s 404', async () => {
    await expect(
      client.responses.create({ model: 'model-a', previous_response_id: 'resp_missing', input: 'x' }),
    ).rejects.toMatchObject({
      status: 404,
      code: 'previous_response_not_found',
      param: 'previous_response_id',
      type: 'invalid_request_error',
    });
  });

  it('forgets responses past their retention: not found at once, deleted by the sweeper', async () => {
    const old = await client.responses.create({ model: 'model-a', input: 'old news' });
    const db = ts.server.services.database.db;
    await db
      .update(storedResponses)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(storedResponses.id, old.id));
    await expect(client.responses.retrieve(old.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      client.responses.create({ model: 'model-a', previous_response_id: old.id, input: 'x' }),
    ).rejects.toMatchObject({ status: 404 });
    expect(await ts.server.services.responses.sweep()).toBeGreaterThanOrEqual(1);
    expect(await db.select().from(storedResponses).where(eq(storedResponses.id, old.id))).toEqual([]);
    // the others are kept
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
  });
});
