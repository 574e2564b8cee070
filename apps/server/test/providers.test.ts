import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providers } from '../src/modules/providers/schema.ts';
import { createModel, until } from './support/gateway-setup.ts';

/** Upstream providers: CRUD, encrypted credentials, connection tests and health. */
let ts: TestServer;
let upstream: FakeUpstream;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_PROBE_INTERVAL_MS: '200' });
  upstream = await startFakeUpstream({ apiKey: 'sk-upstream-123', models: ['llama-3', 'qwen-2'] });
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

const create = (body: Record<string, unknown>) =>
  ts.admin.post('/api/v1/providers', { type: 'openai-compatible', base_url: upstream.url, ...body });

describe('providers', () => {
  it('creates a provider, stores its credentials encrypted and never returns them', async () => {
    const res = await create({
      name: 'vllm-1',
      api_key: 'sk-upstream-123',
      headers: { 'x-tenant': 'ml-team' },
      timeout_ms: 5_000,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^prv_/),
      name: 'vllm-1',
      type: 'openai-compatible',
      base_url: upstream.url,
      has_api_key: true,
      header_names: ['x-tenant'],
      timeout_ms: 5_000,
      max_connections: 128,
    });
    expect(JSON.stringify(res.body)).not.toContain('sk-upstream-123');
    expect(JSON.stringify(res.body)).not.toContain('ml-team');
    const [row] = await ts.server.services.database.db
      .select()
      .from(providers)
      .where(eq(providers.id, res.body.id));
    expect(row!.apiKeyEnc).toMatch(/^v1\./);
    expect(row!.apiKeyEnc).not.toContain('sk-upstream-123');
    expect(row!.headersEnc).not.toContain('ml-team');
    const audit = await ts.admin.get(`/api/v1/audit-events?target=${res.body.id}`);
    expect(audit.body.data[0].action).toBe('provider.create');
    expect(JSON.stringify(audit.body)).not.toContain('sk-upstream-123');
  });

  it('lists, gets (with health), updates and refuses duplicate names', async () => {
    const id = (await create({ name: 'list-me' })).body.id;
    const list = await ts.admin.get('/api/v1/providers?limit=200');
    expect(list.body.data.map((p: { id: string }) => p.id)).toContain(id);
    expect(list.body.next_cursor).toBeNull();
    const got = await ts.admin.get(`/api/v1/providers/${id}`);
    expect(got.body.health).toMatchObject({ status: expect.any(String), error_rate: 0, targets: [] });
    const patched = await ts.admin.patch(`/api/v1/providers/${id}`, {
      timeout_ms: 1_234,
      api_key: 'new-key',
    });
    expect(patched.body).toMatchObject({ timeout_ms: 1_234, has_api_key: true });
    const cleared = await ts.admin.patch(`/api/v1/providers/${id}`, { api_key: null });
    expect(cleared.body.has_api_key).toBe(false);
    expect((await create({ name: 'list-me' })).status).toBe(409);
    expect((await ts.admin.patch(`/api/v1/providers/${id}`, { name: 'vllm-1' })).status).toBe(409);
  });

  it('refuses bad input', async () => {
    expect((await create({ name: 'x', type: 'grpc' })).status).toBe(400);
    expect((await create({ name: 'x', base_url: 'ftp://example.com' })).status).toBe(400);
    expect((await create({ name: 'x', timeout_ms: 5 })).status).toBe(400);
    expect((await create({ name: 'x', surprise: 1 })).status).toBe(400);
    expect((await ts.admin.get('/api/v1/providers/prv_nope')).status).toBe(404);
  });

  it('tests the connection: ok with latency and the upstream’s models, or the error', async () => {
    const good = (await create({ name: 'good', api_key: 'sk-upstream-123' })).body.id;
    const ok = await ts.admin.post(`/api/v1/providers/${good}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, status_code: 200, error: null, models: ['llama-3', 'qwen-2'] });
    expect(ok.body.latency_ms).toBeGreaterThanOrEqual(0);

    const wrongKey = (await create({ name: 'wrong-key', api_key: 'nope' })).body.id;
    const denied = await ts.admin.post(`/api/v1/providers/${wrongKey}/test`);
    expect(denied.body).toMatchObject({
      ok: false,
      status_code: 401,
      error: 'upstream answered 401', // the status, never the upstream's words
    });

    const down = (await create({ name: 'down', base_url: 'http://127.0.0.1:9/v1' })).body.id;
    const refused = await ts.admin.post(`/api/v1/providers/${down}/test`);
    expect(refused.body).toMatchObject({
      ok: false,
      status_code: null,
      error: 'connection refused', // the class, never the address
    });
  });

  it('reports health from active probes: healthy while the upstream answers, unhealthy when it stops', async () => {
    const other = await startFakeUpstream();
    const id = (await create({ name: 'probed', base_url: other.url })).body.id;
    const healthy = await until(async () => {
      const h = (await ts.admin.get(`/api/v1/providers/${id}`)).body.health;
      return h.last_probe?.ok === true && h;
    });
    expect(healthy.status).toBe('healthy');
    await other.close();
    const unhealthy = await until(async () => {
      const h = (await ts.admin.get(`/api/v1/providers/${id}`)).body.health;
      return h.last_probe?.ok === false && h;
    });
    expect(unhealthy.status).toBe('unhealthy');
    expect(unhealthy.last_probe.error).toBeTruthy();
  });

  it('refuses to delete a provider a model uses, then deletes it', async () => {
    const id = (await create({ name: 'in-use' })).body.id;
    const model = await createModel(ts, {
      name: 'uses-it',
      targets: [{ provider_id: id, upstream_model: 'm' }],
    });
    const refused = await ts.admin.delete(`/api/v1/providers/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('uses-it');
    expect((await ts.admin.delete(`/api/v1/models/${model}`)).status).toBe(204);
    expect((await ts.admin.delete(`/api/v1/providers/${id}`)).status).toBe(204);
    expect((await ts.admin.get(`/api/v1/providers/${id}`)).status).toBe(404);
    expect(ts.server.services.providers.cache.get(id)).toBeUndefined();
  });

  it('lets viewers read but not write', async () => {
    await ts.admin.post('/api/v1/users', {
      email: 'viewer@providers.test',
      password: 'viewer-password',
      role: 'viewer',
    });
    const viewer = ts.client();
    await viewer.login('viewer@providers.test', 'viewer-password');
    expect((await viewer.get('/api/v1/providers')).status).toBe(200);
    const res = await viewer.post('/api/v1/providers', {
      name: 'nope',
      type: 'openai-compatible',
      base_url: upstream.url,
    });
    expect(res.status).toBe(403);
  });
});
