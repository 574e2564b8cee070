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
import {
  createKey,
  createModel,
  createProvider,
  openai,
  usageFor,
  usageOf,
  v1,
} from './support/gateway-setup.ts';

/** Every error class of /v1, in OpenAI's shape and status codes, each metered once. */
let ts: TestServer;
let upstream: FakeUpstream;
let provider: string;
let key: string;
let client: OpenAI;
const chat = { messages: [{ role: 'user' as const, content: 'hi' }] };

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ chunks: 3 });
  provider = await createProvider(ts, { name: 'fake', base_url: upstream.url, timeout_ms: 400 });
  for (const name of ['ok', 'bad-request', 'limited', 'broken', 'overloaded', 'slow', 'old', 'gone']) {
    await createModel(ts, { name, targets: [{ provider_id: provider, upstream_model: name }] });
  }
  upstream.setFaults([
    { model: 'bad-request', status: 400, message: 'temperature must be at most 2' },
    { model: 'limited', status: 429, retryAfter: 30 },
    { model: 'broken', status: 500 },
    { model: 'overloaded', status: 503 },
    { model: 'slow', hang: true },
  ]);
  key = await createKey(ts);
  client = openai(ts, key);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

const expectOpenAiError = (body: any, type: string, code: string | null) => {
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error).toMatchObject({ message: expect.any(String), type, code });
};

describe('authentication', () => {
  it('refuses a missing or wrong key with 401 invalid_api_key', async () => {
    const none = await v1(ts, null, '/chat/completions', { model: 'ok', ...chat });
    expect(none.status).toBe(401);
    expectOpenAiError(none.body, 'authentication_error', 'invalid_api_key');
    await expect(openai(ts, 'sk-maas-not-a-real-key').models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });

  it('keys usage by its own request id, whatever id the caller sends, and echoes the caller’s', async () => {
    const first = await v1(
      ts,
      key,
      '/chat/completions',
      { model: 'ok', ...chat },
      { 'x-request-id': 'my-trace-1' },
    );
    const again = await v1(
      ts,
      key,
      '/chat/completions',
      { model: 'ok', ...chat },
      { 'x-request-id': 'my-trace-1' },
    );
    expect(first.headers.get('x-client-request-id')).toBe('my-trace-1');
    expect(first.headers.get('x-request-id')).toMatch(/^req_/);
    expect(again.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    const rows = await usageOf(ts, [first.headers.get('x-request-id')!, again.headers.get('x-request-id')!]);
    expect(rows).toHaveLength(2);
  });

  it('accepts the key in x-api-key too', async () => {
    const res = await v1(ts, null, '/models', undefined, { 'x-api-key': key });
    expect(res.status).toBe(200);
  });

  it('refuses a key without the inference scope with 403', async () => {
    const admin = await createKey(ts, { scopes: ['admin:read'] });
    await expect(openai(ts, admin).models.list()).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
  });
});

describe('bad requests', () => {
  it('answers 400 invalid_request_error for a missing field, naming it, and meters the rejection', async () => {
    const res = await v1(ts, key, '/chat/completions', { model: 'ok' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
    expect(await usageFor(ts, res.headers.get('x-request-id')!)).toMatchObject({
      outcome: 'rejected',
      httpStatus: 400,
      modelName: 'ok',
      attempts: 0,
    });
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await v1(ts, key, '/chat/completions', '{"model": ');
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
  });

  it('passes an upstream’s 400 on without retrying', async () => {
    upstream.clearRequests();
    const err = await client.chat.completions.create({ model: 'bad-request', ...chat }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain('temperature must be at most 2');
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('models', () => {
  it('answers 404 model_not_found for an unknown model', async () => {
    const err = await client.chat.completions.create({ model: 'no-such-model', ...chat }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe('model_not_found');
    expect(await usageFor(ts, err.requestID)).toMatchObject({
      outcome: 'rejected',
      httpStatus: 404,
      errorCode: 'model_not_found',
      modelName: 'unknown', // never the caller's string
    });
  });

  it('meters a model name PostgreSQL cannot store as text (NUL) without poisoning the usage writer', async () => {
    const res = await v1(ts, key, '/chat/completions', { model: 'a\u0000b', ...chat });
    expect(res.status).toBe(404);
    expect(await usageFor(ts, res.headers.get('x-request-id')!)).toMatchObject({
      outcome: 'rejected',
      modelName: 'unknown',
    });
  });

  it('serves a deprecated model with a warning, and answers 404 for a retired one', async () => {
    const models = (await ts.admin.get('/api/v1/models?limit=200')).body.data;
    const id = (name: string) => models.find((m: { name: string }) => m.name === name).id;
    expect((await ts.admin.patch(`/api/v1/models/${id('old')}`, { status: 'deprecated' })).status).toBe(200);
    expect((await ts.admin.patch(`/api/v1/models/${id('gone')}`, { status: 'retired' })).status).toBe(200);
    const old = await v1(ts, key, '/chat/completions', { model: 'old', ...chat });
    expect(old.status).toBe(200);
    expect(old.headers.get('x-maas-deprecated')).toBe('true');
    expect(old.headers.get('warning')).toMatch(/^299 .*deprecated/);
    const gone = await v1(ts, key, '/chat/completions', { model: 'gone', ...chat });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('model_not_found');
    const listed = (await client.models.list()).data.map((m) => m.id);
    expect(listed).toContain('old');
    expect(listed).not.toContain('gone');
  });

  it('limits a key to its own model list', async () => {
    const narrow = await createKey(ts, { models: ['ok'] });
    const c = openai(ts, narrow);
    expect((await c.chat.completions.create({ model: 'ok', ...chat })).object).toBe('chat.completion');
    await expect(c.chat.completions.create({ model: 'broken', ...chat })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    expect((await c.models.list()).data.map((m) => m.id)).toEqual(['ok']);
  });

  it('limits a model to the projects in access.projects', async () => {
    const p1 = (await ts.admin.post('/api/v1/projects', { name: 'allowed' })).body.id;
    const p2 = (await ts.admin.post('/api/v1/projects', { name: 'other' })).body.id;
    await createModel(ts, {
      name: 'private',
      targets: [{ provider_id: provider, upstream_model: 'p' }],
      access: { projects: [p1] },
    });
    const allowed = openai(ts, await createKey(ts, { project_id: p1 }));
    const other = openai(ts, await createKey(ts, { project_id: p2 }));
    expect((await allowed.chat.completions.create({ model: 'private', ...chat })).object).toBe(
      'chat.completion',
    );
    await expect(other.chat.completions.create({ model: 'private', ...chat })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });

  it('lets another org call a model only once it accepted a share of it, as <owner-slug>/<name>', async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Guest Org' });
    const guest: ApiClient = ts.client();
    await guest.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const guestProject = (await guest.get('/api/v1/projects')).body.data[0].id;
    const guestClient = openai(ts, await createKey(ts, { project_id: guestProject }, guest));
    const shared = await createModel(ts, {
      name: 'shared',
      targets: [{ provider_id: provider, upstream_model: 's' }],
    });
    await expect(guestClient.chat.completions.create({ model: 'shared', ...chat })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const offer = await ts.admin.post(`/api/v1/models/${shared}/shares`, { org_id: org.body.id });
    await expect(
      guestClient.chat.completions.create({ model: 'default/shared', ...chat }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await guest.post(`/api/v1/model-shares/${offer.body.id}/accept`);
    expect((await guestClient.chat.completions.create({ model: 'default/shared', ...chat })).object).toBe(
      'chat.completion',
    );
    expect((await guestClient.models.list()).data.map((m) => m.id)).toEqual(['default/shared']);
  });
});

describe('upstream failures', () => {
  it('answers 429 rate_limit_exceeded with Retry-After when the upstream throttles for longer than we wait', async () => {
    const res = await v1(ts, key, '/chat/completions', { model: 'limited', ...chat });
    expect(res.status).toBe(429);
    expectOpenAiError(res.body, 'rate_limit_error', 'rate_limit_exceeded');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers 502 when the upstream keeps failing', async () => {
    const res = await v1(ts, key, '/chat/completions', { model: 'broken', ...chat });
    expect(res.status).toBe(502);
    expectOpenAiError(res.body, 'api_error', 'upstream_error');
    expect(await usageFor(ts, res.headers.get('x-request-id')!)).toMatchObject({
      outcome: 'upstream_error',
      httpStatus: 502,
      attempts: 3,
    });
  });

  it('answers 503 when the upstream is unavailable', async () => {
    const res = await v1(ts, key, '/chat/completions', { model: 'overloaded', ...chat });
    expect(res.status).toBe(503);
    expectOpenAiError(res.body, 'server_error', 'service_unavailable');
  });

  it('answers 504 when the upstream does not answer in time', async () => {
    const res = await v1(ts, key, '/chat/completions', { model: 'slow', ...chat });
    expect(res.status).toBe(504);
    expectOpenAiError(res.body, 'api_error', 'upstream_timeout');
    expect(await usageFor(ts, res.headers.get('x-request-id')!)).toMatchObject({
      outcome: 'timeout',
      httpStatus: 504,
    });
  });
});
