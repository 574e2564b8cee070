import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  startTestServer,
  type TestServer,
  writeTinyLlama,
} from '@maas/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicas } from '../../src/modules/fleet/schema.ts';
import {
  type AgentProcess,
  eventually,
  killQuietly,
  replicasOf,
  spawnAgent,
} from '../support/fleet-agents.ts';
import { createKey, openai } from '../support/gateway-setup.ts';

/**
 * Item 5 of the tenant boundary, played by a hostile tenant: a real `maas agent` process runs a
 * tiny GGUF through our llama.cpp server; the replica listens on the node's address only (not
 * 0.0.0.0) and requires the credential the server gave it. The owning org's gateway traffic gets
 * through (its fleet provider holds the credential); a second org that points a provider of its
 * own at the replica's endpoint gets 401 from the runtime, even with the platform allowing the
 * address for outbound requests.
 */
process.env.MAAS_HEARTBEAT_MS = '300';
process.env.MAAS_FLEET_RECONCILE_MS = '200';
process.env.MAAS_REPLICA_DRAIN_MS = '100';

const NODE_ADDRESS = '127.0.0.2';
const TENANT_PASSWORD = 'tenant-password-long-enough-1';
let ts: TestServer;
let agent: AgentProcess;
let tenant: ApiClient;
let endpoint: string;
const dir = mkdtempSync(join(tmpdir(), 'maas-sec-replica-'));
const model = writeTinyLlama(join(dir, 'tiny.gguf'), { seed: 11 });

beforeAll(async () => {
  ts = await startTestServer({ MAAS_OUTBOUND_ALLOW: '127.0.0.0/8' });
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'sec' })).body.token;
  // no --bind: runtimes bind the node address the agent joined with
  agent = await spawnAgent(ts.url, token, 'sec-node', {
    ports: '32410-32419',
    modelDirs: [dir],
    address: NODE_ADDRESS,
    bind: null,
  });
  const dep = await ts.admin.post('/api/v1/deployments', {
    model: 'tiny-owned',
    runtime: 'llama-cpp',
    source: model,
    replicas: 1,
    runtime_args: ['--threads', '1'],
  });
  if (dep.status !== 201) throw new Error(`deployment: ${dep.status} ${JSON.stringify(dep.body)}`);
  const rep = await eventually(
    async () => {
      const [r] = await replicasOf(ts.admin, dep.body.id);
      return r?.state === 'running' ? r : null;
    },
    60_000,
    'replica running',
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${agent.output.slice(-20).join('\n')}`);
  });
  endpoint = rep.endpoint;

  // The hostile tenant: an admin of another org (not a platform admin).
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Hostile Tenant' });
  const asPlatform = ts.client();
  await asPlatform.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const user = await asPlatform.post('/api/v1/users', {
    email: 'mallory@hostile.test',
    password: TENANT_PASSWORD,
    role: 'admin',
  });
  if (user.status !== 201) throw new Error(`tenant user: ${user.status} ${JSON.stringify(user.body)}`);
  tenant = ts.client();
  await tenant.login('mallory@hostile.test', TENANT_PASSWORD);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  for (const { pid } of agent?.runtimePids() ?? []) killQuietly(pid);
  await ts?.close();
});

describe('replica credentials', { timeout: 60_000 }, () => {
  it('the replica listens on the node address only, not on every interface', async () => {
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.2:3241\d\/v1$/);
    const port = new URL(endpoint).port;
    expect((await fetch(`http://${NODE_ADDRESS}:${port}/health`)).status).toBe(200);
    const loopback = await fetch(`http://127.0.0.1:${port}/health`).catch((err: Error) => err);
    expect(loopback).toBeInstanceOf(Error);
  });

  it('the runtime answers 401 without its credential or with a wrong one; /health stays open', async () => {
    const none = await fetch(`${endpoint}/models`);
    expect(none.status).toBe(401);
    expect((await none.json()).error.type).toBe('authentication_error');
    const chat = await fetch(`${endpoint}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer maas-replica-guess' },
      body: JSON.stringify({ model: 'tiny-owned', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(chat.status).toBe(401);
  });

  it("the owning org's gateway traffic reaches its replica (its fleet provider holds the credential)", async () => {
    const client = openai(ts, await createKey(ts));
    const reply = await client.chat.completions.create({
      model: 'tiny-owned',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
    });
    expect(reply.choices[0]!.message.content).toBeTruthy();
    const providers = (await ts.admin.get('/api/v1/providers?limit=200')).body.data as {
      name: string;
      base_url: string;
      has_api_key: boolean;
    }[];
    const fleet = providers.filter((p) => p.name.startsWith('fleet-'));
    expect(fleet).toHaveLength(1);
    expect(fleet[0]).toMatchObject({ base_url: endpoint, has_api_key: true });
  });

  it("a tenant's own provider pointed at another org's replica gets 401 from the runtime", async () => {
    const created = await tenant.post('/api/v1/providers', {
      name: 'borrowed-replica',
      type: 'openai-compatible',
      base_url: endpoint,
    });
    expect(created.status).toBe(201);
    const probe = await tenant.post(`/api/v1/providers/${created.body.id}/test`);
    expect(probe.status).toBe(200);
    expect(probe.body).toMatchObject({ ok: false, status_code: 401 });

    // …and through the gateway: its model on that provider gets no completion.
    const m = await tenant.post('/api/v1/models', {
      name: 'free-ride',
      type: 'chat',
      targets: [{ provider_id: created.body.id, upstream_model: 'tiny-owned' }],
    });
    expect(m.status).toBe(201);
    const projects = (await tenant.get('/api/v1/projects')).body.data as { id: string }[];
    const projectId = projects[0]?.id ?? (await tenant.post('/api/v1/projects', { name: 'p' })).body.id;
    const key = await createKey(ts, { project_id: projectId }, tenant);
    const res = await fetch(`${ts.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model: 'free-ride',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 3,
      }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(await res.json())).not.toContain('"choices"');
  });

  it('the credential is stored sealed and never shown by the API', async () => {
    const [row] = await ts.server.services.database.db
      .select()
      .from(replicas)
      .where(eq(replicas.endpoint, endpoint));
    expect(row!.apiKeySealed).toMatch(/^v1\./);
    const deps = JSON.stringify((await ts.admin.get('/api/v1/deployments')).body);
    const provs = JSON.stringify((await ts.admin.get('/api/v1/providers?limit=200')).body);
    for (const text of [deps, provs]) expect(text).not.toMatch(/maas-replica-/);
  });
});
