import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitRequest, settleRequest } from '../src/modules/limits/index.ts';
import { webhookDeliveries, webhookEndpoints } from '../src/modules/webhooks/schema.ts';
import { type HostileTenant, hostileTenant } from './security/tenant-fixture.ts';
import { sleep, until } from './support/gateway-setup.ts';

/**
 * Webhooks end to end: a real server delivers to a plain HTTP receiver on loopback, which checks
 * every request with the official openai SDK (`webhooks.unwrap`), as a customer's code would.
 */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
let receiver: Server;
let base: string;
const received: Received[] = [];
/** answers per path, in order; the last one repeats (default 200) */
const answers = new Map<string, number[]>();
let ts: TestServer;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body, at: Date.now() });
      const queue = answers.get(path) ?? [200];
      const status = queue.length > 1 ? queue.shift()! : queue[0]!;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  ts = await startTestServer({ MAAS_WEBHOOK_RETRY_SCHEDULE: '200ms,400ms' });
});
afterAll(async () => {
  await ts?.close();
  receiver?.closeAllConnections();
  receiver?.close();
});

const at = (path: string) => received.filter((r) => r.path === path);
const unwrap = (secret: string, r: Received) =>
  new OpenAI({ apiKey: 'x', webhookSecret: secret }).webhooks.unwrap(
    r.body,
    r.headers as Record<string, string>,
  );

async function endpoint(path: string, events: string[] = ['*'], as = ts.admin) {
  const res = await as.post('/api/v1/webhook-endpoints', {
    url: `${base}${path}`,
    events,
    description: path,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string };
}
const orgOf = async (endpointId: string) => {
  const [row] = await ts.server.services.database.db
    .select({ orgId: webhookEndpoints.orgId })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.id, endpointId));
  return row!.orgId;
};
const deliveries = async (id: string, query = '') =>
  (await ts.admin.get(`/api/v1/webhook-endpoints/${id}/deliveries${query}`)).body.data as Array<
    Record<string, any>
  >;

describe('webhook endpoints', () => {
  it('shows the whsec_ secret once and never again; sends a webhook.test event the SDK verifies', async () => {
    const created = await endpoint('/test', ['batch.completed']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{40,}=*$/);
    expect(Buffer.from(created.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    const one = await ts.admin.get(`/api/v1/webhook-endpoints/${created.id}`);
    const list = await ts.admin.get('/api/v1/webhook-endpoints');
    expect(one.body).toMatchObject({
      id: created.id,
      url: `${base}/test`,
      events: ['batch.completed'],
      enabled: true,
    });
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(created.id);
    for (const res of [one, list]) {
      expect(JSON.stringify(res.body)).not.toContain('whsec_');
      expect(JSON.stringify(res.body)).not.toContain(created.secret.slice(6, 30));
    }

    const test = await ts.admin.post(`/api/v1/webhook-endpoints/${created.id}/test`);
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({
      event_type: 'webhook.test',
      status: 'pending',
      endpoint_id: created.id,
    });
    const [hit] = await until(() => (at('/test').length > 0 ? at('/test') : undefined), 5_000, 'test event');
    const event = await unwrap(created.secret, hit!);
    expect(event).toMatchObject({ object: 'event', type: 'webhook.test', data: { endpoint_id: created.id } });
    expect(Object.keys(event as object)).toEqual(['id', 'object', 'type', 'created_at', 'data']);
    expect(hit!.headers['webhook-id']).toBe(test.body.id);
    expect(hit!.headers['content-type']).toBe('application/json');
    const [logged] = await until(async () => {
      const d = await deliveries(created.id);
      return d[0]?.status === 'succeeded' ? d : undefined;
    });
    expect(logged).toMatchObject({
      id: test.body.id,
      event_id: (event as { id: string }).id,
      attempts: 1,
      response_status: 200,
      response_snippet: 'answer 200',
      last_error: null,
      next_attempt_at: null,
    });
    expect(JSON.stringify(logged)).not.toContain(created.secret.slice(6, 30));
    const audit = await ts.admin.get(`/api/v1/audit-events?target=${created.id}`);
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['webhook_endpoint.create', 'webhook_endpoint.test']),
    );
    expect(JSON.stringify(audit.body)).not.toContain(created.secret.slice(6, 30));
  });

  it('emit reaches the enabled endpoints whose filters match, once per event id', async () => {
    const batches = await endpoint('/batches', ['batch.completed', 'batch.failed']);
    const jobs = await endpoint('/jobs', ['job.*']);
    const off = await endpoint('/off', ['*']);
    await ts.admin.patch(`/api/v1/webhook-endpoints/${off.id}`, { enabled: false });
    const orgId = await orgOf(batches.id);
    const { webhooks } = ts.server.services;
    await webhooks.emit(orgId, 'batch.completed', { id: 'batch_1' }, undefined, {
      idempotencyKey: 'batch_1',
    });
    await webhooks.emit(orgId, 'batch.completed', { id: 'batch_1' }, undefined, {
      idempotencyKey: 'batch_1',
    });
    await webhooks.emit(orgId, 'job.completed', { id: 'job_1' });
    await until(() => at('/batches').length === 1 && at('/jobs').length === 1, 5_000, 'both events');
    await sleep(300);
    expect(at('/batches')).toHaveLength(1);
    expect(at('/off')).toHaveLength(0);
    expect(await unwrap(batches.secret, at('/batches')[0]!)).toMatchObject({
      type: 'batch.completed',
      data: { id: 'batch_1' },
    });
    expect(await unwrap(jobs.secret, at('/jobs')[0]!)).toMatchObject({ type: 'job.completed' });
    await expect(unwrap(jobs.secret, at('/batches')[0]!)).rejects.toThrow(/signature/);
    expect(await deliveries(off.id)).toHaveLength(0);
  });

  it('retries after 500s with backoff, the same webhook-id and body each time, and logs each attempt', async () => {
    answers.set('/flaky', [500, 500, 200]);
    const flaky = await endpoint('/flaky', ['batch.failed']);
    await ts.server.services.webhooks.emit(await orgOf(flaky.id), 'batch.failed', { id: 'batch_2' });
    const [first] = await until(async () => {
      const d = await deliveries(flaky.id);
      return d[0]?.attempts >= 1 && d[0]?.status === 'pending' ? d : undefined;
    });
    expect(first).toMatchObject({
      status: 'pending',
      response_status: 500,
      last_error: 'the receiver answered 500',
    });
    expect(first!.next_attempt_at).not.toBeNull();
    const [done] = await until(async () => {
      const d = await deliveries(flaky.id);
      return d[0]?.status === 'succeeded' ? d : undefined;
    }, 10_000);
    expect(done).toMatchObject({ attempts: 3, response_status: 200, last_error: null });
    const hits = at('/flaky');
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.headers['webhook-id'])).size).toBe(1);
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(180);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(380);
    for (const h of hits) await expect(unwrap(flaky.secret, h)).resolves.toBeTruthy();
    expect((await deliveries(flaky.id, '?status=pending')).length).toBe(0);
  });

  it('a job that runs again (a lost lease, a replay meanwhile) never sends twice', async () => {
    const ep = await endpoint('/once', ['job.failed']);
    const { webhooks, database } = ts.server.services;
    await webhooks.emit(await orgOf(ep.id), 'job.failed', { id: 'job_2' });
    const [d] = await until(async () => {
      const list = await deliveries(ep.id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    });
    await webhooks.deliveries.attempt(d!.id);
    expect(at('/once')).toHaveLength(1);
    // pending again, due in an hour: a job queued for an earlier time is stale and does nothing
    const later = new Date(Date.now() + 3_600_000);
    await database.db
      .update(webhookDeliveries)
      .set({ status: 'pending', nextAttemptAt: later })
      .where(eq(webhookDeliveries.id, d!.id));
    await webhooks.deliveries.attempt(d!.id, Date.parse(d!.created_at));
    expect(at('/once')).toHaveLength(1);
    await webhooks.deliveries.attempt(d!.id, later.getTime());
    expect(at('/once')).toHaveLength(2);
  });

  it('a 410 disables the endpoint; it gets nothing more until enabled again', async () => {
    answers.set('/gone', [410]);
    const gone = await endpoint('/gone');
    const orgId = await orgOf(gone.id);
    await ts.server.services.webhooks.emit(orgId, 'batch.expired', { id: 'batch_3' });
    const row = await until(async () => {
      const r = await ts.admin.get(`/api/v1/webhook-endpoints/${gone.id}`);
      return r.body.enabled === false && r.body;
    });
    expect(row.disabled_reason).toMatch(/410/);
    const [d] = await deliveries(gone.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, response_status: 410 });
    await ts.server.services.webhooks.emit(orgId, 'batch.expired', { id: 'batch_4' });
    expect((await ts.admin.post(`/api/v1/webhook-endpoints/${gone.id}/test`)).status).toBe(409);
    expect((await ts.admin.post(`/api/v1/webhook-deliveries/${d!.id}/replay`)).status).toBe(409);
    await sleep(300);
    expect(at('/gone')).toHaveLength(1);
    expect(await deliveries(gone.id)).toHaveLength(1);
    const enabled = await ts.admin.patch(`/api/v1/webhook-endpoints/${gone.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
  });

  it('replay sends the same message again now', async () => {
    const ep = await endpoint('/replay');
    await ts.server.services.webhooks.emit(await orgOf(ep.id), 'batch.cancelled', { id: 'batch_5' });
    const [d] = await until(async () => {
      const list = await deliveries(ep.id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    });
    const replay = await ts.admin.post(`/api/v1/webhook-deliveries/${d!.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: d!.id, status: 'pending' });
    await until(() => at('/replay').length === 2, 5_000, 'replayed delivery');
    const [a, b] = at('/replay');
    expect(b!.headers['webhook-id']).toBe(a!.headers['webhook-id']);
    expect(b!.body).toBe(a!.body);
    await expect(unwrap(ep.secret, b!)).resolves.toMatchObject({ type: 'batch.cancelled' });
    const after = await until(async () => {
      const r = await ts.admin.get(`/api/v1/webhook-deliveries/${d!.id}`);
      return r.body.status === 'succeeded' && r.body.attempts === 2 && r.body;
    });
    expect(after.response_status).toBe(200);
  });

  it('rotation: the old and the new secret both verify during the grace period; without one only the new', async () => {
    const ep = await endpoint('/rotate');
    const rotated = await ts.admin.post(`/api/v1/webhook-endpoints/${ep.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);
    expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(JSON.stringify((await ts.admin.get(`/api/v1/webhook-endpoints/${ep.id}`)).body)).not.toContain(
      'whsec_',
    );
    await ts.admin.post(`/api/v1/webhook-endpoints/${ep.id}/test`);
    const [hit] = await until(
      () => (at('/rotate').length === 1 ? at('/rotate') : undefined),
      5_000,
      'rotated test',
    );
    expect(String(hit!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    await expect(unwrap(ep.secret, hit!)).resolves.toBeTruthy();
    await expect(unwrap(rotated.body.secret, hit!)).resolves.toBeTruthy();

    const again = await ts.admin.post(`/api/v1/webhook-endpoints/${ep.id}/rotate-secret`, {
      grace_period_s: 0,
    });
    expect(again.body.previous_secret_expires_at).toBeNull();
    await ts.admin.post(`/api/v1/webhook-endpoints/${ep.id}/test`);
    const second = (
      await until(() => (at('/rotate').length === 2 ? at('/rotate') : undefined), 5_000, 'second test')
    )[1]!;
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(1);
    await expect(unwrap(again.body.secret, second)).resolves.toBeTruthy();
    await expect(unwrap(rotated.body.secret, second)).rejects.toThrow(/signature/);
    await expect(unwrap(ep.secret, second)).rejects.toThrow(/signature/);
  });

  it('drops finished deliveries from the log after the retention, never pending ones', async () => {
    const { webhooks } = ts.server.services;
    const before = (await deliveries((await endpoint('/sweep')).id)).length;
    expect(before).toBe(0);
    const all = async () =>
      (await ts.admin.get('/api/v1/webhook-endpoints?limit=200')).body.data as { id: string }[];
    const count = async () => {
      let n = 0;
      for (const e of await all()) n += (await deliveries(e.id, '?limit=200')).length;
      return n;
    };
    const total = await count();
    expect(total).toBeGreaterThan(0);
    expect(await webhooks.sweep(new Date(Date.now() - 3_600_000))).toBe(0);
    const dropped = await webhooks.sweep(new Date(Date.now() + 1_000));
    expect(dropped).toBeGreaterThan(0);
    const left = await count();
    expect(left).toBe(total - dropped);
    for (const e of await all())
      for (const d of await deliveries(e.id, '?limit=200')) expect(d.status).toBe('pending');
  });

  it('validates bodies: bad URLs, event patterns and unknown fields are 400', async () => {
    const post = (body: object) => ts.admin.post('/api/v1/webhook-endpoints', body);
    expect((await post({ url: 'ftp://x.example' })).status).toBe(400);
    expect((await post({ url: 'https://u:p@example.com/' })).status).toBe(400);
    expect((await post({ url: 'https://example.com/', events: ['Batch Completed'] })).status).toBe(400);
    expect((await post({ url: 'https://example.com/', events: [] })).status).toBe(400);
    expect((await post({ url: 'https://example.com/', secret: 'whsec_x' })).status).toBe(400);
  });
});

describe('budget alerts as webhooks', () => {
  it('a budget passing its soft threshold is also a signed budget.threshold_reached event (the limit webhook still fires)', async () => {
    const budget = await endpoint('/budget', ['budget.*']);
    const orgId = await orgOf(budget.id);
    const project = (await ts.admin.post('/api/v1/projects', { name: 'webhook-budget' })).body.id;
    const key = (await ts.admin.post('/api/v1/keys', { name: 'webhook-budget', project_id: project })).body
      .id;
    const policy = await ts.admin.post('/api/v1/limits', {
      scope: 'project',
      scope_id: project,
      budget: 1,
      budget_period: 'day',
      soft_threshold: 0.5,
      webhook_url: `${base}/legacy`,
    });
    expect(policy.status).toBe(201);
    const limits = ts.server.services.limits;
    const subject = { orgId, projectId: project, keyId: key, model: 'm-webhook' };
    for (const cost of [0.3, 0.3]) {
      const { reservation } = await admitRequest(limits, subject, { tokens: 10, cost });
      await settleRequest(limits, reservation, { tokens: 10, cost });
    }
    await limits.drainNotifications();
    await until(() => at('/budget').length === 1 && at('/legacy').length === 1, 5_000, 'both alerts');
    const event = (await unwrap(budget.secret, at('/budget')[0]!)) as Record<string, any>;
    expect(event).toMatchObject({
      object: 'event',
      type: 'budget.threshold_reached',
      data: { policy_id: policy.body.id, metric: 'cost', threshold: 0.5, limit: 1 },
    });
    expect(JSON.parse(at('/legacy')[0]!.body)).toMatchObject({
      id: event.data.id,
      policy_id: policy.body.id,
    });
    await sleep(200);
    expect(at('/budget')).toHaveLength(1);
  });
});

describe('webhooks across tenants', () => {
  let tenant: HostileTenant;
  let victim: { id: string; secret: string };
  let victimDelivery: string;
  beforeAll(async () => {
    tenant = await hostileTenant(ts, 'webhooks');
    victim = await endpoint('/victim');
    const sent = await ts.admin.post(`/api/v1/webhook-endpoints/${victim.id}/test`);
    victimDelivery = sent.body.id;
    await until(() => at('/victim').length === 1, 5_000, "the victim's test event");
  });

  it("org B cannot see, change, rotate, test, read the log of or replay org A's endpoints (404)", async () => {
    for (const as of [tenant.operator, tenant.writeKey, tenant.platformAdmin]) {
      const list = await as.get('/api/v1/webhook-endpoints');
      expect(list.status).toBe(200);
      expect(list.body.data.map((e: { id: string }) => e.id)).not.toContain(victim.id);
      const e = `/api/v1/webhook-endpoints/${victim.id}`;
      expect((await as.get(e)).status).toBe(404);
      expect((await as.patch(e, { url: 'https://attacker.example/' })).status).toBe(404);
      expect((await as.post(`${e}/rotate-secret`, {})).status).toBe(404);
      expect((await as.post(`${e}/test`)).status).toBe(404);
      expect((await as.get(`${e}/deliveries`)).status).toBe(404);
      expect((await as.get(`/api/v1/webhook-deliveries/${victimDelivery}`)).status).toBe(404);
      expect((await as.post(`/api/v1/webhook-deliveries/${victimDelivery}/replay`)).status).toBe(404);
      expect((await as.delete(e)).status).toBe(404);
    }
    const still = await ts.admin.get(`/api/v1/webhook-endpoints/${victim.id}`);
    expect(still.body.url).toBe(`${base}/victim`);
  });

  it('a read-only key lists but cannot create, rotate or replay', async () => {
    expect((await tenant.readKey.get('/api/v1/webhook-endpoints')).status).toBe(200);
    const create = await tenant.readKey.post('/api/v1/webhook-endpoints', { url: 'https://example.com/' });
    expect(create.status).toBe(403);
    const own = await tenant.writeKey.post('/api/v1/webhook-endpoints', {
      url: 'https://example.com/hook',
      events: ['job.*'],
    });
    expect(own.status).toBe(201);
    expect(
      (await tenant.readKey.post(`/api/v1/webhook-endpoints/${own.body.id}/rotate-secret`, {})).status,
    ).toBe(403);
    expect((await tenant.readKey.post(`/api/v1/webhook-endpoints/${own.body.id}/test`)).status).toBe(403);
  });

  it("emit for org B never reaches org A's endpoints", async () => {
    const before = at('/victim').length;
    await ts.server.services.webhooks.emit(tenant.orgId, 'batch.completed', { id: 'batch_b' });
    await sleep(300);
    expect(at('/victim')).toHaveLength(before);
  });
});

describe('webhooks on a server with an empty allow-list', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ MAAS_OUTBOUND_ALLOW: '', MAAS_WEBHOOK_RETRY_SCHEDULE: '100ms' });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('refuses internal addresses at create and update (422, as for providers)', async () => {
    for (const url of [
      `${base}/internal`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/hook',
      'http://localhost:9/hook',
      'http://[::1]:9/hook',
    ]) {
      const res = await strict.admin.post('/api/v1/webhook-endpoints', { url });
      expect(res.status, url).toBe(422);
      expect(res.body.error.code).toBe('unprocessable');
      expect(res.body.error.message).toMatch(/^url /);
    }
    const provider = await strict.admin.post('/api/v1/providers', {
      name: 'internal',
      type: 'openai-compatible',
      base_url: 'http://10.1.2.3/v1',
    });
    const hook = await strict.admin.post('/api/v1/webhook-endpoints', { url: 'http://10.1.2.3/hook' });
    expect(hook.body.error.message.replace(/^url /, '')).toBe(
      provider.body.error.message.replace(/^base_url /, ''),
    );
    const ok = await strict.admin.post('/api/v1/webhook-endpoints', { url: 'https://example.com/hook' });
    expect(ok.status).toBe(201);
    const moved = await strict.admin.patch(`/api/v1/webhook-endpoints/${ok.body.id}`, {
      url: `${base}/internal`,
    });
    expect(moved.status).toBe(422);
    expect((await strict.admin.get('/api/v1/webhook-endpoints')).body.data).toHaveLength(1);
    expect((await strict.admin.delete(`/api/v1/webhook-endpoints/${ok.body.id}`)).status).toBe(204);
  });

  it('never delivers to an internal address, even one stored before the policy', async () => {
    const { services } = strict.server;
    const ok = await strict.admin.post('/api/v1/webhook-endpoints', { url: 'https://example.com/other' });
    const [row] = await services.database.db
      .update(webhookEndpoints)
      .set({ url: `${base}/internal`, events: ['*'] })
      .where(eq(webhookEndpoints.id, ok.body.id))
      .returning();
    await services.webhooks.emit(row!.orgId, 'batch.completed', { id: 'batch_x' });
    const logged = await until(async () => {
      const d = (await strict.admin.get(`/api/v1/webhook-endpoints/${row!.id}/deliveries`)).body.data;
      return d[0]?.attempts >= 2 && d[0];
    }, 5_000);
    expect(logged.last_error).toBe('address not allowed by the outbound policy');
    expect(logged.response_status).toBeNull();
    expect(at('/internal')).toHaveLength(0);
  });
});
