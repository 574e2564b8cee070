import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitRequest, settleRequest } from '../src/modules/limits/index.ts';

let ts: TestServer;
let orgId: string;
let projectId: string;
let keyId: string;
let viewer: ApiClient;
let hook: Server;
let hookUrl: string;
const hookBodies: unknown[] = [];

beforeAll(async () => {
  ts = await startTestServer();
  orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
  projectId = (await ts.admin.post('/api/v1/projects', { name: 'limited' })).body.id;
  keyId = (await ts.admin.post('/api/v1/keys', { name: 'limited', project_id: projectId })).body.id;
  await ts.admin.post('/api/v1/users', {
    email: 'viewer@limits.test',
    password: 'viewer-password',
    role: 'viewer',
  });
  viewer = ts.client();
  await viewer.login('viewer@limits.test', 'viewer-password');
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hookBodies.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await ts?.close();
  hook?.close();
});

const subject = (model = 'm1') => ({ orgId, projectId, keyId, model });

describe('limit policies', () => {
  it('creates, reads, lists, changes and deletes a policy, each change audited', async () => {
    const created = await ts.admin.post('/api/v1/limits', {
      scope: 'project',
      scope_id: projectId,
      rpm: 100,
      tpm: 50_000,
      token_quota: 1_000_000,
      budget: 25.5,
      budget_period: 'week',
      soft_threshold: 0.8,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      scope: 'project',
      scope_id: projectId,
      org_id: orgId,
      model: null,
      rpm: 100,
      rpd: null,
      tpm: 50_000,
      token_quota: 1_000_000,
      quota_period: 'month',
      budget: 25.5,
      budget_period: 'week',
      soft_threshold: 0.8,
    });
    const id: string = created.body.id;
    expect(id).toMatch(/^lim_/);
    expect((await ts.admin.get(`/api/v1/limits/${id}`)).body).toEqual(created.body);
    const listed = await ts.admin.get(`/api/v1/limits?scope=project&scope_id=${projectId}`);
    expect(listed.body.data.map((p: { id: string }) => p.id)).toEqual([id]);
    expect((await ts.admin.get('/api/v1/limits?scope=key')).body.data).toEqual([]);

    const changed = await ts.admin.patch(`/api/v1/limits/${id}`, { rpm: 200, tpm: null });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ rpm: 200, tpm: null, budget: 25.5 });
    expect((await ts.admin.delete(`/api/v1/limits/${id}`)).status).toBe(204);
    expect((await ts.admin.get(`/api/v1/limits/${id}`)).status).toBe(404);

    const audit = (await ts.admin.get(`/api/v1/audit-events?target=${id}`)).body.data;
    expect(audit.map((e: { action: string }) => e.action)).toEqual([
      'limit.delete',
      'limit.update',
      'limit.create',
    ]);
    expect(audit[1].before.rpm).toBe(100);
    expect(audit[1].after.rpm).toBe(200);
  });

  it('refuses bad policies with 400, 404, 409 and 422', async () => {
    const post = (body: unknown) => ts.admin.post('/api/v1/limits', body);
    expect((await post({ scope: 'project', scope_id: projectId, rpm: 1, burst: 3 })).status).toBe(400);
    expect((await post({ scope: 'project', scope_id: projectId, rpm: -1 })).status).toBe(400);
    expect(
      (await post({ scope: 'project', scope_id: projectId, webhook_url: 'ftp://x', rpm: 1 })).status,
    ).toBe(400);
    expect((await post({ scope: 'project', scope_id: projectId, soft_threshold: 0.5 })).status).toBe(422);
    expect((await post({ scope: 'project', rpm: 1 })).status).toBe(422);
    expect((await post({ scope: 'project', scope_id: 'prj_nope', rpm: 1 })).status).toBe(404);
    expect((await post({ scope: 'key', scope_id: 'key_nope', rpm: 1 })).status).toBe(404);
    expect((await post({ scope: 'org', scope_id: 'org_other', rpm: 1 })).status).toBe(404);

    const org = await post({ scope: 'org', rpm: 1000 });
    expect(org.status).toBe(201);
    expect(org.body.scope_id).toBe(orgId);
    const again = await post({ scope: 'org', scope_id: orgId, rpm: 5 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    expect((await post({ scope: 'org', model: 'm9', rpm: 5 })).status).toBe(201);
    expect((await post({ scope: 'org', model: 'm9', rpm: 6 })).status).toBe(409);
    expect((await ts.admin.patch(`/api/v1/limits/${org.body.id}`, { rpm: null })).status).toBe(422);
    expect((await ts.admin.patch(`/api/v1/limits/${org.body.id}`, { scope: 'key' })).status).toBe(400);
    for (const p of (await ts.admin.get('/api/v1/limits?scope=org')).body.data) {
      await ts.admin.delete(`/api/v1/limits/${p.id}`);
    }
  });

  it('lets a viewer read but not change policies', async () => {
    const created = await ts.admin.post('/api/v1/limits', {
      scope: 'key',
      scope_id: keyId,
      model: 'viewer-model',
      rpm: 5,
    });
    const id = created.body.id;
    expect((await viewer.get(`/api/v1/limits/${id}`)).status).toBe(200);
    expect((await viewer.get('/api/v1/limits')).status).toBe(200);
    expect((await viewer.get('/api/v1/notifications')).status).toBe(200);
    const attempts = [
      await viewer.post('/api/v1/limits', { scope: 'key', scope_id: keyId, model: 'other', rpm: 5 }),
      await viewer.patch(`/api/v1/limits/${id}`, { rpm: 50 }),
      await viewer.delete(`/api/v1/limits/${id}`),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    await ts.admin.delete(`/api/v1/limits/${id}`);
  });

  it('answers 404 for a policy of another org', async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Other' });
    const other = ts.client();
    await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const theirs = await other.post('/api/v1/limits', { scope: 'org', rpm: 7 });
    expect(theirs.status).toBe(201);
    const id = theirs.body.id;
    for (const res of [
      await ts.admin.get(`/api/v1/limits/${id}`),
      await ts.admin.get(`/api/v1/limits/${id}/usage`),
      await ts.admin.patch(`/api/v1/limits/${id}`, { rpm: 1 }),
      await ts.admin.delete(`/api/v1/limits/${id}`),
    ]) {
      expect(res.status).toBe(404);
    }
    expect(JSON.stringify((await ts.admin.get('/api/v1/limits')).body)).not.toContain(id);
    expect(
      (await ts.admin.post('/api/v1/limits', { scope: 'project', scope_id: projectId, model: 'x', rpm: 1 }))
        .status,
    ).toBe(201);
    // org B cannot put a limit on org A's project
    expect(
      (await other.post('/api/v1/limits', { scope: 'project', scope_id: projectId, rpm: 1 })).status,
    ).toBe(404);
    expect((await other.post('/api/v1/limits', { scope: 'key', scope_id: keyId, rpm: 1 })).status).toBe(404);
  });
});

describe('enforcement from the cached policies', () => {
  it('applies a created, changed and deleted policy at once, with the usage endpoint in step', async () => {
    const limits = ts.server.services.limits;
    const created = await ts.admin.post('/api/v1/limits', {
      scope: 'key',
      scope_id: keyId,
      model: 'm-rpm',
      rpm: 2,
      max_concurrent: 5,
    });
    const id = created.body.id;
    const s = subject('m-rpm');
    const first = await admitRequest(limits, s, { tokens: 10 });
    expect(first.headers).toMatchObject({
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '1',
    });
    await admitRequest(limits, s, { tokens: 10 });
    const refused = await (async () => admitRequest(limits, s, { tokens: 10 }))().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'rate_limit_exceeded', status: 429, type: 'rate_limit_error' });
    expect((refused as { headers: Record<string, string> }).headers['retry-after']).toMatch(/^\d+$/);

    const usage = await ts.admin.get(`/api/v1/limits/${id}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body.counters).toEqual([
      expect.objectContaining({ dimension: 'rpm', limit: 2, used: 2, remaining: 0 }),
      expect.objectContaining({ dimension: 'concurrency', limit: 5, used: 2 }),
    ]);
    await settleRequest(limits, first.reservation, { tokens: 12, cost: 0 });
    expect((await ts.admin.get(`/api/v1/limits/${id}/usage`)).body.counters[1].used).toBe(1);

    await ts.admin.patch(`/api/v1/limits/${id}`, { rpm: 3 });
    await admitRequest(limits, s, { tokens: 10 });
    await ts.admin.delete(`/api/v1/limits/${id}`);
    for (let i = 0; i < 5; i++) expect((await admitRequest(limits, s, { tokens: 10 })).headers).toEqual({});
  });

  it('raises a notification, an audit event and a webhook once when a budget passes its soft threshold', async () => {
    const limits = ts.server.services.limits;
    const created = await ts.admin.post('/api/v1/limits', {
      scope: 'project',
      scope_id: projectId,
      model: 'm-budget',
      budget: 1,
      budget_period: 'day',
      soft_threshold: 0.5,
      webhook_url: hookUrl,
    });
    const id = created.body.id;
    const s = subject('m-budget');
    const spend = async (cost: number) => {
      const { reservation } = await admitRequest(limits, s, { tokens: 100, cost });
      await settleRequest(limits, reservation, { tokens: 80, cost });
    };
    await spend(0.3);
    await spend(0.3);
    await spend(0.3);
    await limits.drainNotifications();
    const refused = await (async () => admitRequest(limits, s, { tokens: 100, cost: 0.3 }))().catch(
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'insufficient_quota', status: 429, type: 'insufficient_quota' });

    const notes = (await ts.admin.get(`/api/v1/notifications?policy_id=${id}`)).body.data;
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      type: 'limit.threshold_reached',
      policy_id: id,
      scope: 'project',
      scope_id: projectId,
      model: 'm-budget',
      metric: 'cost',
      period: 'day',
      threshold: 0.5,
      limit: 1,
      used: 0.6,
      webhook_status: 'sent',
    });
    expect(hookBodies).toEqual([expect.objectContaining({ id: notes[0].id, policy_id: id, metric: 'cost' })]);
    const audit = (await ts.admin.get(`/api/v1/audit-events?action=limit.threshold_reached&target=${id}`))
      .body.data;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_type: 'system',
      after: expect.objectContaining({ id: notes[0].id }),
    });
    expect((await viewer.get('/api/v1/notifications')).body.data.map((n: { id: string }) => n.id)).toContain(
      notes[0].id,
    );
  });
});
