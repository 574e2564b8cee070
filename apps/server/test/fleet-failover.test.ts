import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  eventually,
  killQuietly,
  replicasOf,
  spawnAgent,
} from './support/fleet-agents.ts';
import { createKey, openai } from './support/gateway-setup.ts';

/**
 * Two real agents on loopback: a node that stops reporting has its replica rescheduled onto the
 * other node, and the gateway follows.
 */
process.env.MAAS_HEARTBEAT_MS = '300';
process.env.MAAS_FLEET_RECONCILE_MS = '200';
process.env.MAAS_REPLICA_DRAIN_MS = '100';
// ten heartbeats: a loaded CI machine can stall the surviving agent for a second or more
process.env.MAAS_NODE_TIMEOUT_MS = '3000';

let ts: TestServer;
const agents: Record<string, AgentProcess> = {};
let client: OpenAI;
let depId: string;
const dir = mkdtempSync(join(tmpdir(), 'maas-failover-'));
const model = writeTinyLlama(join(dir, 'tiny.gguf'), { seed: 3 });
const PORTS = { 'node-a': '32400-32409', 'node-b': '32410-32419' } as const;

beforeAll(async () => {
  ts = await startTestServer();
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'failover', max_uses: 2 })).body.token;
  const [a, b] = await Promise.all(
    (['node-a', 'node-b'] as const).map((name) =>
      spawnAgent(ts.url, token, name, { ports: PORTS[name], modelDirs: [dir] }),
    ),
  );
  agents['node-a'] = a!;
  agents['node-b'] = b!;
  client = openai(ts, await createKey(ts));
});
afterAll(async () => {
  for (const agent of Object.values(agents)) {
    await agent.stop();
    for (const { pid } of agent.runtimePids()) killQuietly(pid);
  }
  await ts?.close();
});

const runningReplica = async () => {
  const reps = await replicasOf(ts.admin, depId);
  return reps.length === 1 && reps[0].state === 'running' ? reps[0] : null;
};
const nodeName = async (id: string) => (await ts.admin.get(`/api/v1/nodes/${id}`)).body.name as string;
const chat = () =>
  eventually(
    () =>
      client.chat.completions
        .create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 })
        .catch(() => null),
    8_000,
    'reply',
  );

describe('fleet failover', { timeout: 60_000 }, () => {
  it('runs the replica on one node', async () => {
    const res = await ts.admin.post('/api/v1/deployments', {
      model: 'tiny',
      runtime: 'llama-cpp',
      source: model,
      runtime_args: ['--threads', '1'],
    });
    expect(res.status).toBe(201);
    depId = res.body.id;
    await eventually(runningReplica, 40_000, 'replica running');
    expect((await chat()).choices[0]!.message.content).toBeTruthy();
  });

  it('a node that stops reporting is marked unreachable and its replica moves to the other node', async () => {
    const rep = (await runningReplica())!;
    const host = await nodeName(rep.node_id);
    const other = host === 'node-a' ? 'node-b' : 'node-a';
    // The machine goes away: its agent and its runtime.
    await agents[host]!.stop('SIGKILL');
    for (const { pid } of agents[host]!.runtimePids()) killQuietly(pid);
    const moved = await eventually(
      async () => {
        const reps = await replicasOf(ts.admin, depId);
        return reps[0]?.state === 'pending' || (reps[0] && reps[0].node_id !== rep.node_id) ? reps[0] : null;
      },
      15_000,
      'rescheduled',
    );
    expect(moved.reason ?? '').toMatch(new RegExp(`node ${host} stopped reporting|^$`));
    const node = (await ts.admin.get(`/api/v1/nodes/${rep.node_id}`)).body;
    expect(node.status).toBe('unreachable');
    const running = await eventually(runningReplica, 40_000, 'running on the other node');
    expect(await nodeName(running.node_id)).toBe(other);
    expect((await chat()).choices[0]!.message.content).toBeTruthy();
  });
});
