import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FakeUpstream,
  startFakeUpstream,
  startTcpProxy,
  startTestServer,
  type TcpProxy,
  type TestServer,
} from '@maas/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitRequest, settleRequest } from '../../src/modules/limits/index.ts';
import { limitPolicies } from '../../src/modules/limits/schema.ts';
import { PROVIDERS_CHANGED } from '../../src/modules/providers/index.ts';
import { providers } from '../../src/modules/providers/schema.ts';
import { createKey, createModel, openai, until, v1 } from '../support/gateway-setup.ts';
import { type HostileTenant, hostileTenant } from './tenant-fixture.ts';

/**
 * Item 4 of the tenant boundary: one outbound-request policy. A hostile tenant points providers,
 * probes and limit webhooks at loopback, private, link-local and metadata addresses, at maas
 * itself and back through maas, on a real server with no allow-list (`hostile`) and on one whose
 * platform admin allowed loopback as a range (`selfHosted`, as a vLLM on 10.x would be allowed).
 * Every refusal is checked against a real listener that must see no request.
 */
let hostile: TestServer;
let selfHosted: TestServer;
let tenant: HostileTenant;
let inside: FakeUpstream;
/** a plain listener that counts what reaches it and answers 401 with a banner it must not leak */
let banner: Server;
let bannerPort: number;
let bannerHits = 0;
const BANNER = 'INTERNAL-ADMIN-CONSOLE build 7 at 10.9.8.7';

beforeAll(async () => {
  inside = await startFakeUpstream({ models: ['internal-llm'] });
  banner = createServer((req, res) => {
    bannerHits++;
    req.resume();
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: BANNER, type: 'invalid_request_error' } }));
  });
  await new Promise<void>((r) => banner.listen(0, '127.0.0.1', r));
  bannerPort = (banner.address() as AddressInfo).port;
  hostile = await startTestServer({ MAAS_OUTBOUND_ALLOW: '' });
  selfHosted = await startTestServer({ MAAS_OUTBOUND_ALLOW: '127.0.0.0/8' });
  tenant = await hostileTenant(hostile, 'outbound');
});
afterAll(async () => {
  await hostile?.close();
  await selfHosted?.close();
  await inside?.close();
  banner?.close();
});

const insidePort = () => Number(new URL(inside.url).port);
const provider = (as: HostileTenant['operator'], name: string, base_url: string, extra = {}) =>
  as.post('/api/v1/providers', { name, type: 'openai-compatible', base_url, ...extra });

/** A provider row that never went through the create check (DNS rebinding, a row from before the policy). */
async function slippedPast(ts: TestServer, orgId: string, name: string, baseUrl: string, managed = false) {
  const [row] = await ts.server.services.database.db
    .insert(providers)
    .values({
      id: `prv_${name.replace(/[^a-z0-9]/g, '')}${Date.now().toString(36)}`,
      orgId,
      name,
      type: 'openai-compatible',
      baseUrl,
      ...(managed ? { managedBy: 'fleet' as const } : {}),
    })
    .returning();
  await ts.server.services.bus.publish(PROVIDERS_CHANGED, { id: row!.id });
  await until(() => ts.server.services.providers.cache.get(row!.id), 5_000, 'provider in the cache');
  return row!.id;
}

describe('outbound policy: providers', () => {
  it('refuses internal addresses when a provider is created, naming why and how an admin allows it', async () => {
    const port = insidePort();
    const before = inside.requests.length;
    const allowable: [string, RegExp][] = [
      [`http://127.0.0.1:${port}/v1`, /^base_url is a loopback address/],
      [`http://[::1]:${port}/v1`, /^base_url is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/v1`, /^base_url is a loopback address/],
      [`http://localhost:${port}/v1`, /^base_url resolves to a loopback address/],
      ['http://10.0.0.5:8000/v1', /^base_url is a private address/],
      ['http://192.168.1.20/v1', /^base_url is a private address/],
      ['http://[fd00::1]:8000/v1', /^base_url is a private address/],
      ['http://100.64.0.9/v1', /^base_url is a carrier-grade NAT address/],
      ['http://169.254.10.10/v1', /^base_url is a link-local address/],
      ['http://0.0.0.0:8000/v1', /^base_url is an unspecified address/],
    ];
    for (const [url, why] of allowable) {
      const res = await provider(tenant.operator, `p-${allowable.indexOf([url, why])}`, url);
      expect(res.status, url).toBe(422);
      expect(res.body.error.message, url).toMatch(why);
      expect(res.body.error.message).toMatch(/a platform admin can allow it with MAAS_OUTBOUND_ALLOW$/);
    }
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://metadata.google.internal/computeMetadata/v1/',
    ]) {
      const res = await provider(tenant.writeKey, 'metadata', url);
      expect(res.status, url).toBe(422);
      expect(res.body.error.message).toMatch(/^base_url is a cloud metadata address$/);
    }
    expect(inside.requests.length).toBe(before);
    const list = await tenant.operator.get('/api/v1/providers');
    expect(list.body.data).toEqual([]);
  });

  it('refuses at connect time what slipped past the check: /test, probes and /v1 never reach the address', async () => {
    const port = insidePort();
    const before = inside.requests.length;
    const ids = [
      await slippedPast(hostile, tenant.orgId, 'literal', `http://127.0.0.1:${port}/v1`),
      await slippedPast(hostile, tenant.orgId, 'mapped', `http://[::ffff:127.0.0.1]:${port}/v1`),
      await slippedPast(hostile, tenant.orgId, 'v6', `http://[::1]:${port}/v1`),
      await slippedPast(hostile, tenant.orgId, 'rebound', `http://localhost:${port}/v1`),
    ];
    for (const id of ids) {
      const test = await tenant.operator.post(`/api/v1/providers/${id}/test`);
      expect(test.status).toBe(200);
      expect(test.body).toMatchObject({
        ok: false,
        status_code: null,
        error: 'address not allowed by the outbound policy',
      });
      expect(JSON.stringify(test.body)).not.toContain(String(port));
    }
    await createModel(
      hostile,
      { name: 'reach-inside', targets: [{ provider_id: ids[3], upstream_model: 'internal-llm' }] },
      tenant.operator,
    );
    const project = (await tenant.platformAdmin.get('/api/v1/projects')).body.data[0].id;
    const key = await createKey(hostile, { name: 'inference', project_id: project }, tenant.platformAdmin);
    const res = await v1(hostile, key, '/chat/completions', {
      model: 'reach-inside',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(502);
    expect(res.body.error.message).toBe(
      'The upstream could not be reached: address not allowed by the outbound policy.',
    );
    expect(res.text).not.toContain('127.0.0.1');
    expect(inside.requests.length).toBe(before);
  });

  it('an allowed range works: a self-hosted upstream inside MAAS_OUTBOUND_ALLOW serves chat, marked with the hop header', async () => {
    const id = (await provider(selfHosted.admin, 'vllm-inside', inside.url)).body.id;
    expect(id).toMatch(/^prv_/);
    await createModel(selfHosted, {
      name: 'inside',
      targets: [{ provider_id: id, upstream_model: 'internal-llm' }],
    });
    const key = await createKey(selfHosted);
    const chat = await openai(selfHosted, key).chat.completions.create({
      model: 'inside',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.choices[0]!.message.content).toBeTruthy();
    const seen = inside.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;
    expect(seen.headers['x-maas-hop']).toMatch(/\S/);
    // but still not a metadata address, even inside an allowed range
    const meta = await selfHosted.admin.patch(`/api/v1/providers/${id}`, {
      base_url: 'http://169.254.169.254/latest',
    });
    expect(meta.status).toBe(422);
  });

  it("refuses maas's own listen address even when loopback is allowed, at create and at connect", async () => {
    const created = await provider(selfHosted.admin, 'myself', `${selfHosted.url}/v1`);
    expect(created.status).toBe(422);
    expect(created.body.error.message).toBe('base_url points at maas itself');
    const me = (await selfHosted.admin.get('/api/v1/me')).body.org.id;
    const id = await slippedPast(selfHosted, me, 'myself-row', `${selfHosted.url}/v1`);
    const test = await selfHosted.admin.post(`/api/v1/providers/${id}/test`);
    expect(test.body).toMatchObject({ ok: false, error: 'address not allowed by the outbound policy' });
  });

  it('ends a loop through maas at the first hop: a request carrying x-maas-hop is refused', async () => {
    const key = await createKey(selfHosted);
    const before = inside.requests.length;
    const direct = await v1(
      selfHosted,
      key,
      '/chat/completions',
      { model: 'inside', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-maas-hop': 'forged' },
    );
    expect(direct.status).toBe(508);
    expect(direct.body.error).toMatchObject({ code: 'loop_detected', type: 'invalid_request_error' });
    expect(inside.requests.length).toBe(before);

    // a provider that reaches maas through a TCP relay (its own address is refused): the relayed
    // request carries the hop header and is refused there, so the loop stops after one hop
    const port = Number(new URL(selfHosted.url).port);
    const relay: TcpProxy = await startTcpProxy('127.0.0.1', port);
    try {
      const id = (await provider(selfHosted.admin, 'relay', `http://127.0.0.1:${relay.port}/v1`)).body.id;
      await createModel(selfHosted, { name: 'loop', targets: [{ provider_id: id, upstream_model: 'loop' }] });
      const looped = await v1(selfHosted, key, '/chat/completions', {
        model: 'loop',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(looped.status).toBe(502);
      expect(looped.body.error.message).toMatch(
        /^The upstream failed \(508\): This request already passed through maas/,
      );
    } finally {
      await relay.close();
    }
  });

  it('probe and /test errors carry the class or status, never the upstream body or address', async () => {
    const loud = (await provider(selfHosted.admin, 'loud', `http://127.0.0.1:${bannerPort}/v1`)).body.id;
    const answered = await selfHosted.admin.post(`/api/v1/providers/${loud}/test`);
    expect(answered.body).toMatchObject({ ok: false, status_code: 401, error: 'upstream answered 401' });
    expect(JSON.stringify(answered.body)).not.toContain('INTERNAL');
    const health = await until(async () => {
      const h = (await selfHosted.admin.get(`/api/v1/providers/${loud}`)).body.health;
      return h.last_probe && h;
    });
    expect(JSON.stringify(health)).not.toContain('INTERNAL');
    expect(bannerHits).toBeGreaterThan(0);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dead = (await provider(selfHosted.admin, 'dead', `http://127.0.0.1:${deadPort}/v1`)).body.id;
    const refused = await selfHosted.admin.post(`/api/v1/providers/${dead}/test`);
    expect(refused.body).toMatchObject({ ok: false, status_code: null, error: 'connection refused' });
    expect(JSON.stringify(refused.body)).not.toContain(String(deadPort));
  });

  it('caps max_connections and timeout_ms', async () => {
    const url = 'http://10.0.0.1/v1';
    expect((await provider(tenant.operator, 'big', url, { max_connections: 257 })).status).toBe(400);
    expect((await provider(tenant.operator, 'slow', url, { timeout_ms: 600_001 })).status).toBe(400);
  });
});

describe('outbound policy: fleet-managed providers', () => {
  it('connect to their replica without the private-address refusal, and tenants can neither change nor delete them', async () => {
    const id = await slippedPast(hostile, tenant.orgId, 'fleet-replica', inside.url, true);
    const test = await tenant.operator.post(`/api/v1/providers/${id}/test`);
    expect(test.body).toMatchObject({ ok: true, status_code: 200 });
    const got = await tenant.operator.get(`/api/v1/providers/${id}`);
    expect(got.body.managed_by).toBe('fleet');
    for (const as of [tenant.operator, tenant.writeKey, tenant.platformAdmin]) {
      const repoint = await as.patch(`/api/v1/providers/${id}`, { base_url: 'http://8.8.8.8/v1' });
      expect(repoint.status).toBe(403);
      expect((await as.patch(`/api/v1/providers/${id}`, { api_key: 'mine' })).status).toBe(403);
      expect((await as.delete(`/api/v1/providers/${id}`)).status).toBe(403);
    }
    const forged = await provider(tenant.operator, 'forged', 'http://8.8.8.8/v1', { managed_by: 'fleet' });
    expect(forged.status).toBe(400);
    expect((await tenant.operator.get(`/api/v1/providers/${id}`)).body.base_url).toBe(inside.url);
  });
});

describe('outbound policy: limit webhooks', () => {
  it('refuses an internal webhook when it is set, and never delivers one that slipped past: the real listener sees no request', async () => {
    let hits = 0;
    const hook = createServer((req, res) => {
      hits++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    try {
      const ts = hostile;
      const orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
      const projectId = (await ts.admin.post('/api/v1/projects', { name: 'hooked' })).body.id;
      const keyId = (await ts.admin.post('/api/v1/keys', { name: 'hooked', project_id: projectId })).body.id;
      const policy = {
        scope: 'project',
        scope_id: projectId,
        model: 'm-hook',
        budget: 1,
        budget_period: 'day',
        soft_threshold: 0.5,
      };
      const refused = await ts.admin.post('/api/v1/limits', { ...policy, webhook_url: hookUrl });
      expect(refused.status).toBe(422);
      expect(refused.body.error.message).toMatch(
        /^webhook_url is a loopback address; a platform admin can allow it/,
      );
      const metadata = await ts.admin.post('/api/v1/limits', {
        ...policy,
        webhook_url: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      });
      expect(metadata.status).toBe(422);
      // a public hook passes the check; the row then turns internal behind the API's back (as a
      // rebound name would): delivery is refused when the connection opens
      const created = await ts.admin.post('/api/v1/limits', {
        ...policy,
        webhook_url: 'http://8.8.8.8/hook',
      });
      expect(created.status).toBe(201);
      expect(
        (await ts.admin.patch(`/api/v1/limits/${created.body.id}`, { webhook_url: hookUrl })).status,
      ).toBe(422);
      await ts.server.services.database.db
        .update(limitPolicies)
        .set({ webhookUrl: hookUrl })
        .where(eq(limitPolicies.id, created.body.id));
      const limits = ts.server.services.limits;
      await limits.reconcile();
      const s = { orgId, projectId, keyId, model: 'm-hook' };
      for (let i = 0; i < 2; i++) {
        const { reservation } = await admitRequest(limits, s, { tokens: 100, cost: 0.3 });
        await settleRequest(limits, reservation, { tokens: 80, cost: 0.3 });
      }
      await limits.drainNotifications();
      const notes = (await ts.admin.get(`/api/v1/notifications?policy_id=${created.body.id}`)).body.data;
      expect(notes).toHaveLength(1);
      expect(notes[0].webhook_status).toBe('failed');
      expect(hits).toBe(0);
    } finally {
      hook.close();
    }
  });
});
