import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp } from './support/oidc-idp.ts';
import { fillPath, listOperations, sampleBody } from './support/openapi-routes.ts';

/**
 * Tenant isolation over every documented admin route: a caller of org A gets 404 for every
 * resource of org B, and never sees B's resources in a list. A route this test cannot place in the
 * fixture map fails it, so new modules must add their resource here.
 */
let ts: TestServer;
let a: ApiClient;
let b: ApiClient;
/** org A's inference key, for the routes reached with API keys (async jobs) */
let aInference: ApiClient;
const orgB: Record<string, string> = {};

async function created(res: { status: number; body: { id?: string } }, what: string): Promise<string> {
  if (res.status !== 201 || !res.body.id)
    throw new Error(`fixture ${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

beforeAll(async () => {
  ts = await startTestServer();
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant B' });
  orgB.orgs = org.body.id;
  b = ts.client();
  await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  orgB.projects = await created(await b.post('/api/v1/projects', { name: 'b-project' }), 'project');
  const user = await b.post('/api/v1/users', {
    email: 'b-user@tenant-b.test',
    password: 'b-user-password',
    role: 'operator',
  });
  orgB.users = await created(user, 'user');
  orgB.memberships = (await b.get('/api/v1/memberships')).body.data.find(
    (m: { user_id: string }) => m.user_id === orgB.users,
  ).id;
  orgB.invitations = await created(
    await b.post('/api/v1/invitations', { email: 'invitee@tenant-b.test', role: 'viewer' }),
    'invitation',
  );
  // addressed to someone else: org A's owner can neither accept nor decline it
  orgB.me = orgB.invitations;
  // a session of B's user: nobody else lists or ends it
  orgB.auth = (await b.get('/api/v1/auth/sessions')).body.data[0].id;
  orgB.keys = await created(
    await b.post('/api/v1/keys', { name: 'b-key', project_id: orgB.projects }),
    'key',
  );
  orgB.limits = await created(
    await b.post('/api/v1/limits', { scope: 'project', scope_id: orgB.projects, rpm: 10 }),
    'limit',
  );
  orgB['webhook-endpoints'] = await created(
    await b.post('/api/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/hook' }),
    'webhook endpoint',
  );
  const delivery = await b.post(`/api/v1/webhook-endpoints/${orgB['webhook-endpoints']}/test`);
  if (delivery.status !== 202) throw new Error(`fixture webhook delivery: ${delivery.status}`);
  orgB['webhook-deliveries'] = delivery.body.id;
  orgB.guardrails = await created(
    await b.post('/api/v1/guardrails', { name: 'b-guard', kind: 'pii', action: 'mask' }),
    'guardrail',
  );
  orgB.roles = await created(
    await b.post('/api/v1/roles', { name: 'b-role', permissions: ['keys:read'] }),
    'role',
  );
  orgB['audit-events'] = (await b.get('/api/v1/audit-events?limit=1')).body.data[0].id;
  const ops = await listOperations(ts.admin);
  if (ops.some((o) => o.path.startsWith('/api/v1/providers'))) {
    orgB.providers = await created(
      await b.post('/api/v1/providers', {
        name: 'b-provider',
        type: 'openai-compatible',
        base_url: 'http://127.0.0.1:9/v1',
      }),
      'provider',
    );
  }
  if (ops.some((o) => o.path.startsWith('/api/v1/models'))) {
    orgB.models = await created(
      await b.post('/api/v1/models', {
        name: 'b-model',
        type: 'chat',
        targets: [{ provider_id: orgB.providers, upstream_model: 'up' }],
      }),
      'model',
    );
  }
  if (ops.some((o) => o.path.startsWith('/api/v1/model-shares'))) {
    // offered by B to a third org: org A is neither its owner nor its receiver
    const orgC = await ts.admin.post('/api/v1/orgs', { name: 'Tenant C' });
    orgB['model-shares'] = await created(
      await b.post(`/api/v1/models/${orgB.models}/shares`, { org_id: orgC.body.id }),
      'model share',
    );
  }

  if (ops.some((o) => o.path.startsWith('/api/v1/async'))) {
    // async jobs are reached with API keys: B's key submits one, A's key must not see it
    const bKey = await b.post('/api/v1/keys', {
      name: 'b-async',
      project_id: orgB.projects,
      scopes: ['inference'],
    });
    const job = await ts.client(bKey.body.key).post('/api/v1/async/chat/completions', {
      model: 'b-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    if (job.status !== 202) throw new Error(`fixture async job: ${job.status} ${JSON.stringify(job.body)}`);
    orgB.async = job.body.id;
  }

  orgB.prices = await created(
    await b.post('/api/v1/prices', {
      model_id: orgB.models,
      currency: 'USD',
      input_per_million: 1,
      output_per_million: 2,
    }),
    'price',
  );
  const bill = await b.post('/api/v1/bills', { period: '2026-01' });
  if (bill.status !== 200) throw new Error(`fixture bill: ${bill.status} ${JSON.stringify(bill.body)}`);
  orgB.bills = bill.body.id;

  if (ops.some((o) => o.path.startsWith('/api/v1/deployments'))) {
    // Nodes and join tokens are platform resources that only platform admins see: org A's admin is
    // not one, so they must be a 404 to it as well.
    const joinToken = await b.post('/api/v1/join-tokens', { name: 'b-token' });
    orgB['join-tokens'] = await created(joinToken, 'join token');
    const node = await b.post('/api/v1/agent/register', {
      join_token: joinToken.body.token,
      name: 'b-node',
      hostname: 'b-host',
    });
    orgB.nodes = node.body.node_id;
    // Kubernetes clusters are platform resources too
    orgB.clusters = await created(
      await b.post('/api/v1/clusters', {
        name: 'b-cluster',
        api_server: 'https://127.0.0.1:1',
        token: 'b-cluster-token',
        namespace: 'b',
      }),
      'cluster',
    );
    const dep = await b.post('/api/v1/deployments', {
      model: 'b-deployment',
      runtime: 'llama-cpp',
      source: '/models/b.gguf',
      resources: { gpu_memory_gib: 1 },
    });
    orgB.deployments = await created(dep, 'deployment');
    orgB.replicas = dep.body.replica_states[0].id;
  }

  // Identity providers are platform resources too (a real provider: discovery runs at creation)
  const idp = await startTestIdp(ts.url);
  orgB['identity-providers'] = await created(
    await b.post('/api/v1/identity-providers', {
      slug: 'b-idp',
      name: 'B IdP',
      issuer: idp.issuer,
      client_id: idp.clientId,
    }),
    'identity provider',
  );
  await idp.close();

  // An owner of org A who is not a member of org B.
  await ts.admin.post('/api/v1/users', {
    email: 'a-owner@tenant-a.test',
    password: 'a-owner-password',
    role: 'admin',
  });
  a = ts.client();
  await a.login('a-owner@tenant-a.test', 'a-owner-password');
  const aKey = await a.post('/api/v1/keys', {
    name: 'a-inference',
    project_id: (await a.get('/api/v1/projects')).body.data[0].id,
    scopes: ['inference'],
  });
  aInference = ts.client(aKey.body.key);
});
afterAll(async () => {
  await ts?.close();
});

describe('tenant isolation', () => {
  it('answers 404 on every route that names a resource of another org', async () => {
    const ops = (await listOperations(ts.admin)).filter(
      (o) => o.path.startsWith('/api/v1/') && o.params.length > 0,
    );
    expect(ops.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const op of ops) {
      const resource = op.path.split('/')[3]!;
      const id = orgB[resource];
      if (!id) {
        failures.push(`${op.method} ${op.path}: no org-B fixture for "${resource}"`);
        continue;
      }
      const values: Record<string, string> = { [op.params[0]!]: id };
      const url = fillPath(op.path, values);
      const body = ['POST', 'PUT', 'PATCH'].includes(op.method) ? sampleBody(op.bodySchema) : undefined;
      const caller = op.path.startsWith('/api/v1/async/') ? aInference : a;
      const res = await caller.request(op.method, url, body);
      if (res.status !== 404)
        failures.push(`${op.method} ${op.path}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      else expect(res.body.error.code).toMatch(/not_found/);
    }
    expect(failures).toEqual([]);
  });

  it('never lists another org’s resources', async () => {
    const ops = (await listOperations(ts.admin)).filter(
      (o) => o.method === 'GET' && o.path.startsWith('/api/v1/') && o.params.length === 0,
    );
    const secretIds = Object.values(orgB);
    for (const op of ops) {
      const res = await a.get(op.path);
      expect(res.status, op.path).toBeLessThan(500);
      for (const id of secretIds)
        expect(JSON.stringify(res.body), `${op.path} leaks ${id}`).not.toContain(id);
    }
  });

  it('does not let org B’s key act on org A', async () => {
    const key = await b.post('/api/v1/keys', {
      name: 'b-admin',
      project_id: orgB.projects,
      scopes: ['admin:write'],
    });
    const asKey = ts.client(key.body.key);
    const projectsOfA = (await ts.admin.get('/api/v1/projects')).body.data;
    expect((await asKey.get(`/api/v1/projects/${projectsOfA[0].id}`)).status).toBe(404);
    const visible = (await asKey.get('/api/v1/projects')).body.data.map((p: { id: string }) => p.id);
    expect(visible).toContain(orgB.projects);
    for (const p of projectsOfA) expect(visible).not.toContain(p.id);
  });
});
