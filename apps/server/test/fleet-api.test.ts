import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ModelFileServer,
  startModelFileServer,
  startTestServer,
  type TestServer,
  writeTinyLlama,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually, type FakeAgent, fakeAgent, replicasOf } from './support/fleet-agents.ts';

/**
 * The fleet's admin API with agents that speak the protocol but run nothing: platform-only nodes,
 * join tokens, the dry run and its reasons, pending replicas placed when room appears, cordon,
 * drain, rolling update, canary and rollback through the registry, and failover.
 */
process.env.MAAS_FLEET_RECONCILE_MS = '100';
process.env.MAAS_REPLICA_DRAIN_MS = '0';
process.env.MAAS_NODE_TIMEOUT_MS = '4000';

let ts: TestServer;
let files: ModelFileServer;
let token: string;
const agents: FakeAgent[] = [];
const dir = mkdtempSync(join(tmpdir(), 'maas-fleet-api-'));

beforeAll(async () => {
  files = await startModelFileServer({
    '/org/tiny/resolve/main/tiny.gguf': writeTinyLlama(join(dir, 'tiny.gguf')),
  });
  process.env.HF_ENDPOINT = files.url;
  ts = await startTestServer();
  // three nodes join with it (gpu-a, gpu-b, later gpu-big): join tokens are single-use by default
  token = (
    await ts.admin.post('/api/v1/join-tokens', { name: 'fake', labels: { pool: 'test' }, max_uses: 3 })
  ).body.token;
  agents.push(await fakeAgent(ts.url, token, 'gpu-a', { gpus: [24, 24], labels: { zone: 'east' } }));
  agents.push(await fakeAgent(ts.url, token, 'gpu-b', { gpus: [24], labels: { zone: 'west' } }));
  for (const a of agents) a.beat(150);
});
afterAll(async () => {
  for (const a of agents) a.stop();
  await ts?.close();
  await files?.close();
});

const byName = async () =>
  Object.fromEntries(
    ((await ts.admin.get('/api/v1/nodes')).body.data as { id: string; name: string }[]).map((n) => [
      n.id,
      n.name,
    ]),
  );
const wanted = async (id: string) => (await replicasOf(ts.admin, id)).filter((r) => r.desired === 'run');
const modelNamed = async (name: string) => {
  const list = (await ts.admin.get('/api/v1/models')).body.data as { name: string; id: string }[];
  const m = list.find((x) => x.name === name);
  return m ? (await ts.admin.get(`/api/v1/models/${m.id}`)).body : null;
};

// placement, drains and rollouts wait on heartbeats and timers, which a loaded machine runs late
vi.setConfig({ testTimeout: 120_000 });

describe('nodes and join tokens', () => {
  it('registers nodes with the token’s labels and reports their GPUs', async () => {
    const nodes = (await ts.admin.get('/api/v1/nodes')).body.data;
    expect(nodes.map((n: { name: string }) => n.name).sort()).toEqual(['gpu-a', 'gpu-b']);
    const a = nodes.find((n: { name: string }) => n.name === 'gpu-a');
    expect(a.labels).toEqual({ pool: 'test', zone: 'east' });
    expect(a.gpus).toHaveLength(2);
    expect(a.gpus[0]).toMatchObject({ name: 'NVIDIA A10', memory_total: 24 * 1024 ** 3 });
    expect(a.status).toBe('ready');
  });

  it('are platform resources: an org admin who is not a platform admin cannot see them', async () => {
    await ts.admin.post('/api/v1/users', {
      email: 'ops@fleet.test',
      password: 'ops-password',
      role: 'admin',
    });
    const ops = ts.client();
    await ops.login('ops@fleet.test', 'ops-password');
    expect((await ops.get('/api/v1/nodes')).status).toBe(403);
    expect((await ops.get(`/api/v1/nodes/${agents[0]!.nodeId}`)).status).toBe(404);
    expect((await ops.post(`/api/v1/nodes/${agents[0]!.nodeId}/cordon`)).status).toBe(404);
    expect((await ops.post('/api/v1/join-tokens', { name: 'x' })).status).toBe(403);
    // …but may deploy onto the shared fleet (from a URL: local paths are for platform admins)
    expect(
      (
        await ops.post('/api/v1/deployments/evaluate', {
          model: 'm',
          runtime: 'vllm',
          source: 'hf://org/m/m.gguf',
          resources: { gpu_memory_gib: 1 },
        })
      ).status,
    ).toBe(200);
  });

  it('refuses used-up or revoked join tokens and unknown node credentials', async () => {
    const once = (await ts.admin.post('/api/v1/join-tokens', { name: 'once', max_uses: 1 })).body;
    expect(once.token).toMatch(/^maas-join-/);
    await fakeAgent(ts.url, once.token, 'once-node').then((a) => a.stop());
    await expect(fakeAgent(ts.url, once.token, 'twice-node')).rejects.toThrow(/401/);
    const revoked = (await ts.admin.post('/api/v1/join-tokens', { name: 'revoked' })).body;
    expect((await ts.admin.delete(`/api/v1/join-tokens/${revoked.id}`)).status).toBe(204);
    await expect(fakeAgent(ts.url, revoked.token, 'late-node')).rejects.toThrow(/401/);
    const res = await fetch(`${ts.url}/api/v1/agent/desired`, {
      headers: { authorization: 'Bearer maas-node-nope' },
    });
    expect(res.status).toBe(401);
    const listed = (await ts.admin.get('/api/v1/join-tokens')).body.data;
    expect(JSON.stringify(listed)).not.toContain(once.token);
    const removed = (await ts.admin.get('/api/v1/nodes')).body.data.find(
      (n: { name: string }) => n.name === 'once-node',
    );
    expect((await ts.admin.delete(`/api/v1/nodes/${removed.id}`)).status).toBe(204);
  });
});

describe('placement', () => {
  it('dry-runs a deployment and explains in plain words why it does not fit', async () => {
    const big = await ts.admin.post('/api/v1/deployments/evaluate', {
      model: 'big',
      runtime: 'vllm',
      source: '/models/big',
      resources: { gpus: 1, gpu_memory_gib: 30 },
      placement: { node_selector: { zone: 'east' } },
    });
    expect(big.status).toBe(200);
    expect(big.body.fits).toBe(false);
    expect(big.body.reason).toBe(
      '1 of 2 nodes match the selector zone=east (1 labels); needs ~30.0 GiB of GPU memory per replica; best node gpu-a has 24.0 GiB free',
    );
    const ok = await ts.admin.post('/api/v1/deployments/evaluate', {
      model: 'tiny',
      runtime: 'vllm',
      source: 'hf://org/tiny/tiny.gguf',
      replicas: 3,
    });
    expect(ok.body.estimate).toMatchObject({ method: 'gguf', context_length: 512 });
    expect(ok.body.fits).toBe(true);
    expect(ok.body.placements.map((p: { node_name: string }) => p.node_name).sort()).toEqual([
      'gpu-a',
      'gpu-a',
      'gpu-b',
    ]);
    expect((await ts.admin.get('/api/v1/deployments')).body.data).toEqual([]); // nothing was created
  });

  it('keeps a replica pending with the reason, and places it once a node with room joins', async () => {
    const res = await ts.admin.post('/api/v1/deployments', {
      model: 'big',
      runtime: 'vllm',
      source: '/models/big',
      resources: { gpu_memory_gib: 40 },
    });
    expect(res.status).toBe(201);
    expect(res.body.replica_states[0]).toMatchObject({
      state: 'pending',
      reason: 'needs ~40.0 GiB of GPU memory per replica; best node gpu-a has 24.0 GiB free',
    });
    const big = await fakeAgent(ts.url, token, 'gpu-big', { gpus: [80] });
    big.beat(150);
    agents.push(big);
    const [rep] = await eventually(
      async () => {
        const reps = await wanted(res.body.id);
        return reps[0]?.state === 'running' ? reps : null;
      },
      10_000,
      'placed and running',
    );
    expect(rep.node_id).toBe(big.nodeId);
    expect(rep.endpoint).toBe('http://127.0.0.1:45000/v1');
    // …and it is a gateway target of the model named like the deployment
    const model = await eventually(() => modelNamed('big'), 5_000, 'registry model');
    expect(model.versions[0].targets).toHaveLength(1);
    const logs = await eventually(async () => {
      const body = (await ts.admin.get(`/api/v1/replicas/${rep.id}/logs`)).body;
      return body.lines.length ? body.lines : null;
    });
    expect(logs[0]).toBe(`${rep.id} up`);
    await ts.admin.delete(`/api/v1/deployments/${res.body.id}`);
    await eventually(
      async () => (await ts.admin.get(`/api/v1/deployments/${res.body.id}`)).status === 404,
      5_000,
      'deleted',
    );
    await eventually(async () => (await modelNamed('big')) === null, 5_000, 'model removed');
  });

  it('avoids cordoned nodes, and drains by moving each replica before stopping it', async () => {
    const [a, b, big] = [agents[0]!, agents[1]!, agents[2]!];
    await ts.admin.post(`/api/v1/nodes/${big.nodeId}/cordon`);
    const res = await ts.admin.post('/api/v1/deployments', {
      model: 'web',
      runtime: 'vllm',
      source: '/models/web',
      replicas: 2,
      resources: { gpu_memory_gib: 10 },
    });
    const placed = await eventually(async () => {
      const reps = await wanted(res.body.id);
      return reps.length === 2 && reps.every((r) => r.state === 'running') ? reps : null;
    });
    expect(new Set(placed.map((r) => r.node_id))).toEqual(new Set([a.nodeId, b.nodeId]));
    await ts.admin.post(`/api/v1/nodes/${big.nodeId}/uncordon`);
    // Drain gpu-b: its replica gets a replacement first, and stops only once that one runs.
    const drained = await ts.admin.post(`/api/v1/nodes/${b.nodeId}/drain`);
    expect(drained.body).toMatchObject({ schedulable: false, draining: true });
    const after = await eventually(
      async () => {
        const reps = await replicasOf(ts.admin, res.body.id);
        return reps.length === 2 && reps.every((r) => r.node_id !== b.nodeId && r.state === 'running')
          ? reps
          : null;
      },
      10_000,
      'drained',
    );
    expect(after.map((r) => r.node_id)).not.toContain(b.nodeId);
    // one provider for the deployment: its endpoints follow the running replicas, the model's target stays
    const model = await modelNamed('web');
    expect(model.versions[0].targets).toEqual([
      expect.objectContaining({ upstream_model: 'web', endpoint_group: '1' }),
    ]);
    const provider = (await ts.admin.get(`/api/v1/providers/${model.versions[0].targets[0].provider_id}`))
      .body;
    expect(provider).toMatchObject({ name: `fleet-${res.body.id}`, managed_by: 'fleet' });
    const endpoints = await eventually(async () => {
      const p = (await ts.admin.get(`/api/v1/providers/${provider.id}`)).body;
      return p.endpoints.length === 2 ? p.endpoints : null;
    });
    expect(endpoints.map((e: { id: string }) => e.id).sort()).toEqual(after.map((r) => r.id).sort());
    expect(JSON.stringify(provider)).not.toMatch(/api_key_enc|v1\./);
    await ts.admin.post(`/api/v1/nodes/${b.nodeId}/uncordon`);
  });
});

describe('rollouts', () => {
  let depId: string;

  it('rolls a new version out one replica at a time and moves the traffic with it', async () => {
    depId = (await ts.admin.get('/api/v1/deployments')).body.data.find(
      (d: { name: string }) => d.name === 'web',
    ).id;
    const res = await ts.admin.patch(`/api/v1/deployments/${depId}`, {
      version: '2',
      source: '/models/web-v2',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: '2', revision: 2, previous_version: '1' });
    let most = 0;
    await eventually(
      async () => {
        const reps = await wanted(depId);
        most = Math.max(most, reps.length);
        return reps.length === 2 && reps.every((r) => r.version === '2' && r.state === 'running');
      },
      15_000,
      'rolled out',
    );
    expect(most).toBeLessThanOrEqual(3);
    const model = await eventually(
      async () => {
        const m = await modelNamed('web');
        return m?.traffic['2'] > 0 && !m.traffic['1'] ? m : null;
      },
      5_000,
      'traffic on v2',
    );
    expect(model.versions.map((v: { version: string }) => v.version)).toEqual(['1', '2']);
  });

  it('runs a canary beside the old version with its share of traffic, and rolls it back', async () => {
    const res = await ts.admin.patch(`/api/v1/deployments/${depId}`, {
      version: '3',
      source: '/models/web-v3',
      canary: { replicas: 1, weight: 10 },
    });
    expect(res.body.canary).toEqual({ replicas: 1, weight: 10 });
    const model = await eventually(
      async () => {
        const m = await modelNamed('web');
        return m?.traffic['3'] > 0 ? m : null;
      },
      10_000,
      'canary traffic',
    );
    expect(model.traffic['3'] / (model.traffic['3'] + model.traffic['2'])).toBeCloseTo(0.1, 2);
    expect((await wanted(depId)).map((r) => r.version).sort()).toEqual(['2', '2', '3']);
    const back = await ts.admin.post(`/api/v1/deployments/${depId}/rollback`);
    expect(back.body).toMatchObject({ version: '2', revision: 2, canary: null });
    await eventually(
      async () => {
        const reps = await replicasOf(ts.admin, depId);
        return reps.length === 2 && reps.every((r) => r.version === '2');
      },
      10_000,
      'canary stopped',
    );
    await eventually(
      async () => {
        const m = await modelNamed('web');
        return m && !m.traffic['3'] && m.traffic['2'] > 0;
      },
      5_000,
      'traffic back on v2',
    );
  });

  it('moves the replicas of a node that stops reporting', async () => {
    const names = await byName();
    const reps = await wanted(depId);
    const victim = agents.find((a) => a.nodeId === reps[0].node_id)!;
    victim.stop();
    await eventually(
      async () => (await ts.admin.get(`/api/v1/nodes/${victim.nodeId}`)).body.status === 'unreachable',
      5_000,
      'unreachable',
    );
    const moved = await eventually(
      async () => {
        const now = await wanted(depId);
        return now.length === 2 &&
          now.every((r) => r.node_id && r.node_id !== victim.nodeId && r.state === 'running')
          ? now
          : null;
      },
      10_000,
      'moved',
    );
    expect(moved.map((r) => names[r.node_id])).not.toContain(names[victim.nodeId]);
    victim.beat(150);
    await eventually(
      async () => (await ts.admin.get(`/api/v1/nodes/${victim.nodeId}`)).body.status === 'ready',
      5_000,
      'back',
    );
  });
});
