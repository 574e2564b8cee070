import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, createProvider, issueKey, openai, usageFor, v1 } from '../support/gateway-setup.ts';

/**
 * The hostile tenant and model sharing: a model reaches another org only once that org accepted
 * it, under `<owner-slug>/<name>`; no share can take a name the receiving org uses; nothing a
 * receiving org sees names the owner's providers.
 */
let ts: TestServer;
let upstream: FakeUpstream;
const org = { a: '', b: '', c: '' };
const as = {} as Record<'a' | 'b' | 'c' | 'bOperator' | 'bViewer', ApiClient>;
const model = { llama: '', mistral: '', gemma: '' };
let keyA: string;
let keyB: { id: string; key: string };
let keyC: string;
const chat = { messages: [{ role: 'user' as const, content: 'hi' }] };

async function orgWithOwner(name: string, slug: string): Promise<[string, ApiClient]> {
  const res = await ts.admin.post('/api/v1/orgs', { name, slug });
  expect(res.status).toBe(201);
  const owner = ts.client();
  await owner.login(ADMIN_EMAIL, ADMIN_PASSWORD, res.body.id);
  return [res.body.id, owner];
}

async function member(owner: ApiClient, email: string, role: string): Promise<ApiClient> {
  const password = `${role}-Pa55word-for-tests`;
  const created = await owner.post('/api/v1/users', { email, password, role });
  expect(created.status).toBe(201);
  const c = ts.client();
  await c.login(email, password);
  return c;
}

async function projectOf(c: ApiClient): Promise<string> {
  return (await c.get('/api/v1/projects')).body.data[0].id;
}

const offer = (modelId: string, to: string, by = as.a) =>
  by.post(`/api/v1/models/${modelId}/shares`, { org_id: to });

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ chunks: 2 });
  [org.a, as.a] = await orgWithOwner('Acme Labs', 'acme');
  [org.b, as.b] = await orgWithOwner('Beta Corp', 'beta');
  [org.c, as.c] = await orgWithOwner('Cyber Inc', 'cyber');
  as.bOperator = await member(as.b, 'operator@beta.test', 'operator');
  as.bViewer = await member(as.b, 'viewer@beta.test', 'viewer');

  const secret = await createProvider(ts, { name: 'acme-secret-vllm', base_url: upstream.url }, as.a);
  for (const name of ['llama', 'mistral', 'gemma'] as const) {
    model[name] = await createModel(
      ts,
      { name, targets: [{ provider_id: secret, upstream_model: `a-${name}` }] },
      as.a,
    );
  }
  const beta = await createProvider(ts, { name: 'beta-prov', base_url: upstream.url }, as.b);
  for (const name of ['llama', 'acme/mistral', 'acme/qwen']) {
    await createModel(ts, { name, targets: [{ provider_id: beta, upstream_model: `b-${name}` }] }, as.b);
  }
  keyA = (await issueKey(ts, { project_id: await projectOf(as.a) }, as.a)).key;
  keyB = await issueKey(ts, { project_id: await projectOf(as.b) }, as.b);
  keyC = (await issueKey(ts, { project_id: await projectOf(as.c) }, as.c)).key;
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('a share is opt-in for the receiving org', () => {
  it('no longer takes access.orgs: the model stays out of other orgs', async () => {
    const res = await as.a.patch(`/api/v1/models/${model.llama}`, { access: { orgs: [org.b] } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/shares/);
    await expect(
      openai(ts, keyB.key).chat.completions.create({ model: 'acme/llama', ...chat }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('keeps an offered model out of reach until the receiving org accepts it', async () => {
    const offered = await offer(model.llama, org.b);
    expect(offered.status).toBe(201);
    expect(offered.body).toMatchObject({
      status: 'offered',
      shared_name: 'acme/llama',
      consumer_org_id: org.b,
    });
    const b = openai(ts, keyB.key);
    expect((await b.models.list()).data.map((m) => m.id).sort()).toEqual([
      'acme/mistral',
      'acme/qwen',
      'llama',
    ]);
    for (const name of ['acme/llama', model.llama]) {
      const res = await v1(ts, keyB.key, '/chat/completions', { model: name, ...chat });
      expect(res.status, name).toBe(404);
      expect(res.body.error.code).toBe('model_not_found');
    }
    // B's own llama is B's, not A's
    const own = await b.chat.completions.create({ model: 'llama', ...chat }).withResponse();
    expect(own.response.headers.get('x-maas-target')).toBe('beta-prov/b-llama');
    const incoming = (await as.b.get('/api/v1/model-shares?direction=incoming')).body.data;
    expect(incoming.map((s: { id: string }) => s.id)).toEqual([offered.body.id]);
  });

  it('lets no other org accept, decline or revoke an offer made to B, and no viewer of B accept it', async () => {
    const share = (await as.b.get('/api/v1/model-shares?direction=incoming')).body.data[0].id;
    expect((await as.c.get('/api/v1/model-shares')).body.data).toEqual([]);
    expect((await as.c.post(`/api/v1/model-shares/${share}/accept`)).status).toBe(404);
    expect((await as.c.post(`/api/v1/model-shares/${share}/decline`)).status).toBe(404);
    expect((await as.c.delete(`/api/v1/model-shares/${share}`)).status).toBe(404);
    expect((await as.b.delete(`/api/v1/model-shares/${share}`)).status).toBe(404); // only the owner revokes
    expect((await as.bViewer.post(`/api/v1/model-shares/${share}/accept`)).status).toBe(403);
    // an admin:write key of C is no better
    const cAdmin = await issueKey(ts, { project_id: await projectOf(as.c), scopes: ['admin:write'] }, as.c);
    expect((await ts.client(cAdmin.key).post(`/api/v1/model-shares/${share}/accept`)).status).toBe(404);
    // nor an inference key of B
    expect((await ts.client(keyB.key).post(`/api/v1/model-shares/${share}/accept`)).status).toBe(403);
    // C offered nothing can still not reach it
    const res = await v1(ts, keyC, '/chat/completions', { model: 'acme/llama', ...chat });
    expect(res.status).toBe(404);
  });
});

describe('an accepted share', () => {
  it('is listed and callable as acme/llama, billed to B, and never names A’s provider', async () => {
    const share = (await as.b.get('/api/v1/model-shares?direction=incoming')).body.data[0].id;
    const accepted = await as.bOperator.post(`/api/v1/model-shares/${share}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('accepted');
    const b = openai(ts, keyB.key);
    const listed = (await b.models.list()).data;
    expect(listed.map((m) => m.id).sort()).toEqual(['acme/llama', 'acme/mistral', 'acme/qwen', 'llama']);
    expect(listed.find((m) => m.id === 'acme/llama')!.owned_by).toBe('acme');
    expect((await b.models.retrieve('acme/llama')).id).toBe('acme/llama');

    upstream.clearRequests();
    const shared = await b.chat.completions.create({ model: 'acme/llama', ...chat }).withResponse();
    expect(shared.data.object).toBe('chat.completion');
    expect(shared.response.headers.get('x-maas-target')).toBe('shared');
    expect(upstream.requests.map((r) => r.body?.model)).toEqual(['a-llama']);
    expect(await usageFor(ts, shared.response.headers.get('x-request-id')!)).toMatchObject({
      orgId: org.b,
      keyId: keyB.id,
      modelName: 'acme/llama',
      outcome: 'success',
    });
    // B's own llama is still its own; A sees its own provider's name
    const own = await b.chat.completions.create({ model: 'llama', ...chat }).withResponse();
    expect(own.response.headers.get('x-maas-target')).toBe('beta-prov/b-llama');
    const a = await openai(ts, keyA)
      .chat.completions.create({ model: 'llama', ...chat })
      .withResponse();
    expect(a.response.headers.get('x-maas-target')).toBe('acme-secret-vllm/a-llama');
  });

  it('streams under the shared name without naming A’s provider', async () => {
    const res = await v1(ts, keyB.key, '/chat/completions', { model: 'acme/llama', stream: true, ...chat });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-maas-target')).toBe('shared');
    expect(res.text).not.toMatch(/acme-secret/);
  });

  it('tells B only the class of an upstream failure, never the owner’s upstream’s words', async () => {
    upstream.setFaults([
      { model: 'a-llama', status: 400, message: 'acme-secret-vllm at 10.9.8.7 refused temperature' },
    ]);
    try {
      const res = await v1(ts, keyB.key, '/chat/completions', { model: 'acme/llama', ...chat });
      expect(res.status).toBe(400);
      expect(res.text).not.toMatch(/acme-secret|10\.9\.8\.7/);
      expect(res.headers.get('x-maas-target')).toBeNull();
      upstream.setFaults([
        { model: 'a-llama', status: 500, message: 'acme-secret-vllm at 10.9.8.7 crashed' },
      ]);
      const failed = await v1(ts, keyB.key, '/chat/completions', { model: 'acme/llama', ...chat });
      expect(failed.status).toBe(502);
      expect(failed.text).not.toMatch(/acme-secret|10\.9\.8\.7/);
      // the owner still reads its own upstream's message
      const mine = await v1(ts, keyA, '/chat/completions', { model: 'llama', ...chat });
      expect(mine.text).toMatch(/crashed/);
    } finally {
      upstream.setFaults(null);
    }
  });

  it('is recorded in both orgs’ audit chains', async () => {
    for (const c of [as.a, as.b]) {
      const actions = (await c.get('/api/v1/audit-events?limit=200')).body.data.map(
        (e: { action: string }) => e.action,
      );
      expect(actions).toEqual(expect.arrayContaining(['model.share.offer', 'model.share.accept']));
    }
    const cActions = (await as.c.get('/api/v1/audit-events?limit=200')).body.data.map(
      (e: { action: string }) => e.action,
    );
    expect(cActions.filter((a: string) => a.startsWith('model.share'))).toEqual([]);
  });
});

describe('names B uses are never shadowed', () => {
  it('refuses to accept a share whose name B already uses, and B’s model keeps it', async () => {
    const offered = await offer(model.mistral, org.b);
    expect(offered.status).toBe(201);
    const res = await as.bOperator.post(`/api/v1/model-shares/${offered.body.id}/accept`);
    expect(res.status).toBe(409);
    const call = await openai(ts, keyB.key)
      .chat.completions.create({ model: 'acme/mistral', ...chat })
      .withResponse();
    expect(call.response.headers.get('x-maas-target')).toBe('beta-prov/b-acme/mistral');
  });

  it('refuses B a model named like a share it accepted', async () => {
    const res = await as.b.post('/api/v1/models', {
      name: 'acme/llama',
      type: 'chat',
      targets: [{ provider_id: (await as.b.get('/api/v1/providers')).body.data[0].id, upstream_model: 'x' }],
    });
    expect(res.status).toBe(409);
  });

  it('keeps B’s own model when the owner renames a shared one onto B’s name', async () => {
    const offered = await offer(model.gemma, org.b);
    expect((await as.bOperator.post(`/api/v1/model-shares/${offered.body.id}/accept`)).status).toBe(200);
    const before = await v1(ts, keyB.key, '/chat/completions', { model: 'acme/gemma', ...chat });
    expect(before.headers.get('x-maas-target')).toBe('shared');
    expect((await as.a.patch(`/api/v1/models/${model.gemma}`, { name: 'qwen' })).status).toBe(200);
    const after = await v1(ts, keyB.key, '/chat/completions', { model: 'acme/qwen', ...chat });
    expect(after.status).toBe(200);
    expect(after.headers.get('x-maas-target')).toBe('beta-prov/b-acme/qwen');
    const ids = (await openai(ts, keyB.key).models.list()).data.map((m) => m.id);
    expect(ids.filter((id) => id === 'acme/qwen')).toHaveLength(1);
  });
});

describe('ending a share', () => {
  it('takes the model away when the owner revokes it or B declines it', async () => {
    const shares = (await as.a.get('/api/v1/model-shares?direction=outgoing')).body.data as {
      id: string;
      model_id: string;
    }[];
    const llama = shares.find((s) => s.model_id === model.llama)!;
    expect((await as.a.delete(`/api/v1/model-shares/${llama.id}`)).status).toBe(204);
    expect((await v1(ts, keyB.key, '/chat/completions', { model: 'acme/llama', ...chat })).status).toBe(404);
    const gemma = shares.find((s) => s.model_id === model.gemma)!;
    const declined = await as.bOperator.post(`/api/v1/model-shares/${gemma.id}/decline`);
    expect(declined.body.status).toBe('declined');
    // (gemma is named qwen now; B's own acme/qwen answers either way) — A's model is gone from B's list
    const ids = (await openai(ts, keyB.key).models.list()).data.map((m) => m.id).sort();
    expect(ids).toEqual(['acme/mistral', 'acme/qwen', 'llama']);
    // a declined share is accepted again only after a new offer
    expect((await as.bOperator.post(`/api/v1/model-shares/${gemma.id}/accept`)).status).toBe(409);
    expect((await offer(model.gemma, org.b)).status).toBe(201);
    const actions = (await as.b.get('/api/v1/audit-events?limit=200')).body.data.map(
      (e: { action: string }) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['model.share.revoke', 'model.share.decline']));
  });

  it('refuses bad offers without a 500', async () => {
    expect((await offer(model.llama, org.a)).status).toBe(422);
    expect((await offer(model.llama, 'org_does_not_exist')).status).toBe(422);
    expect((await as.a.post(`/api/v1/models/${model.llama}/shares`, { org_id: 'x y' })).status).toBe(400);
    expect((await as.a.post(`/api/v1/models/${model.llama}/shares`, {})).status).toBe(400);
    expect((await offer(model.llama, org.c, as.b)).status).toBe(404); // not B's model
    expect((await as.b.post('/api/v1/model-shares/shr_nope/accept')).status).toBe(404);
    expect((await as.b.get('/api/v1/model-shares?direction=sideways')).status).toBe(400);
    const twice = await Promise.all([offer(model.mistral, org.c), offer(model.mistral, org.c)]);
    expect(twice.map((r) => r.status).sort()).toEqual([201, 409]);
  });
});
