import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type FakeAgent, fakeAgent, replicasOf } from './support/fleet-agents.ts';

/**
 * POST /replicas/{id}/restart: a fresh replica replaces the old one, which leaves the gateway and
 * stops; a viewer may not, another org's caller sees no such replica, a stopping one is a 409.
 */
process.env.MAAS_FLEET_RECONCILE_MS = '100';
// long enough for the second restart below to meet the first one's stopping replica
process.env.MAAS_REPLICA_DRAIN_MS = '1500';

let ts: TestServer;
let agent: FakeAgent;
let viewer: ApiClient;
let otherOrg: ApiClient;
let depId: string;

beforeAll(async () => {
  ts = await startTestServer();
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'restart' })).body.token;
  agent = await fakeAgent(ts.url, token, 'gpu-r', { gpus: [24, 24] });
  agent.beat(150);
  await ts.admin.post('/api/v1/users', {
    email: 'v@restart.test',
    password: 'viewer-pass-1',
    role: 'viewer',
  });
  viewer = ts.client();
  await viewer.login('v@restart.test', 'viewer-pass-1');
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Other tenant' });
  otherOrg = ts.client();
  await otherOrg.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const dep = await ts.admin.post('/api/v1/deployments', {
    model: 'restartable',
    runtime: 'vllm',
    source: '/models/restartable',
    replicas: 1,
    resources: { gpu_memory_gib: 10 },
  });
  expect(dep.status).toBe(201);
  depId = dep.body.id;
});
afterAll(async () => {
  agent?.stop();
  await ts?.close();
});

const runningOne = async () => {
  const reps = (await replicasOf(ts.admin, depId)).filter((r) => r.desired === 'run');
  return reps.length === 1 && reps[0].state === 'running' ? reps[0] : null;
};

describe('replica restart', { timeout: 30_000 }, () => {
  it('is refused to a viewer, unknown to another org, and 404 for an unknown id', async () => {
    const rep = await eventually(runningOne, 10_000, 'replica running');
    const asViewer = await viewer.post(`/api/v1/replicas/${rep.id}/restart`);
    expect(asViewer.status).toBe(403);
    const asOther = await otherOrg.post(`/api/v1/replicas/${rep.id}/restart`);
    expect(asOther.status).toBe(404);
    expect(asOther.body.error.message).toBe('replica not found');
    expect((await ts.admin.post('/api/v1/replicas/rep_nope/restart')).status).toBe(404);
    // nothing changed for them
    expect((await ts.admin.get(`/api/v1/replicas/${rep.id}`)).body).toMatchObject({
      desired: 'run',
      state: 'running',
    });
  });

  it('replaces the replica: the new one runs, the old one stops, the audit log says who', async () => {
    const old = await eventually(runningOne, 10_000, 'replica running');
    const res = await ts.admin.post(`/api/v1/replicas/${old.id}/restart`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: old.id, desired: 'stop', reason: expect.stringMatching(/restart/) });
    expect((await ts.admin.post(`/api/v1/replicas/${old.id}/restart`)).status).toBe(409);
    const fresh = await eventually(
      async () => {
        const r = await runningOne();
        return r && r.id !== old.id ? r : null;
      },
      10_000,
      'replacement running',
    );
    expect(fresh.revision).toBe(old.revision);
    await eventually(
      async () => (await replicasOf(ts.admin, depId)).every((r) => r.id !== old.id),
      10_000,
      'old replica gone',
    );
    const audit = await ts.admin.get('/api/v1/audit-events?action=replica.restart');
    expect(audit.body.data.map((e: { target_id: string }) => e.target_id)).toContain(old.id);
  });
});
