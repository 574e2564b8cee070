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
 * A real `maas agent` process on loopback runs a tiny random-weight llama GGUF through
 * node-llama-cpp; the openai SDK streams a reply through the gateway; a killed runtime is restarted;
 * a restarted agent adopts the runtime it left running (desired state lives in the database);
 * scaling to zero takes the replica out of the gateway and stops it.
 */
process.env.MAAS_HEARTBEAT_MS = '300';
process.env.MAAS_FLEET_RECONCILE_MS = '200';
process.env.MAAS_REPLICA_DRAIN_MS = '100';

let ts: TestServer;
let agent: AgentProcess;
let client: OpenAI;
let depId: string;
const dir = mkdtempSync(join(tmpdir(), 'maas-fleet-e2e-'));
const model = writeTinyLlama(join(dir, 'tiny.gguf'), { seed: 7 });

beforeAll(async () => {
  ts = await startTestServer();
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'e2e' })).body.token;
  agent = await spawnAgent(ts.url, token, 'node-a', { ports: '32300-32309', modelDirs: [dir] });
  client = openai(ts, await createKey(ts));
});
afterAll(async () => {
  await agent?.stop();
  for (const { pid } of agent?.runtimePids() ?? []) killQuietly(pid);
  await ts?.close();
});

const running = async () => {
  const reps = await replicasOf(ts.admin, depId);
  return reps.length === 1 && reps[0].state === 'running' ? reps[0] : null;
};

describe('a deployment on a real agent', { timeout: 60_000 }, () => {
  it('registers the node with its resources and the model files it holds', async () => {
    const nodes = (await ts.admin.get('/api/v1/nodes')).body.data;
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({
      name: 'node-a',
      status: 'ready',
      runtimes: ['llama-cpp'],
      address: '127.0.0.1',
    });
    expect(nodes[0].memory.total).toBeGreaterThan(0);
    expect(nodes[0].files.map((f: { path: string }) => f.path)).toContain(model);
  });

  it('places the GGUF, starts llama.cpp and serves a streamed reply through the gateway', async () => {
    const started = performance.now();
    const res = await ts.admin.post('/api/v1/deployments', {
      model: 'tiny',
      runtime: 'llama-cpp',
      source: model,
      replicas: 1,
      runtime_args: ['--threads', '1'],
    });
    expect(res.status).toBe(201);
    depId = res.body.id;
    expect(res.body.estimate).toMatchObject({ method: 'gguf', architecture: 'llama', context_length: 512 });
    expect(res.body.replica_states[0]).toMatchObject({ state: 'scheduled', port: 32300 });
    const rep = await eventually(running, 40_000, 'replica running').catch(async (err: Error) => {
      throw new Error(
        `${err.message}: ${JSON.stringify(await replicasOf(ts.admin, depId))}\n${agent.output.slice(-20).join('\n')}`,
      );
    });
    const loadMs = performance.now() - started;
    expect(rep.endpoint).toBe('http://127.0.0.1:32300/v1');

    const t0 = performance.now();
    const stream = await eventually(
      async () =>
        client.chat.completions
          .create({
            model: 'tiny',
            messages: [{ role: 'user', content: 'hello' }],
            max_tokens: 6,
            temperature: 0.8,
            seed: 11,
            stream: true,
          })
          .catch(() => null),
      5_000,
      'gateway target',
    );
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      chunks++;
    }
    const genMs = performance.now() - t0;
    expect(chunks).toBeGreaterThan(2);
    expect(text.length).toBeGreaterThan(0);
    // The same seed gives the same text.
    const again = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 6,
      temperature: 0.8,
      seed: 11,
    });
    expect(again.choices[0]!.message.content).toBe(text);
    expect(again.usage?.completion_tokens).toBeGreaterThan(0);
    console.log(
      `tiny GGUF: deploy → running ${Math.round(loadMs)} ms; streamed ${chunks} chunks in ${Math.round(genMs)} ms`,
    );

    const logs = (await ts.admin.get(`/api/v1/replicas/${rep.id}/logs`)).body.lines.join('\n');
    expect(logs).toMatch(/model tiny ready in \d+ ms/);
  });

  it('restarts a runtime that was killed, with backoff, and keeps serving', async () => {
    const { pid } = agent.runtimePids()[0]!;
    killQuietly(pid);
    const failed = await eventually(
      async () => (await replicasOf(ts.admin, depId)).find((r) => r.restarts >= 1),
      10_000,
      'restart',
    );
    expect(failed.reason ?? '').toMatch(/restarting in|runtime exited/);
    const back = await eventually(
      async () => {
        const r = await running();
        return r && r.restarts >= 1 ? r : null;
      },
      20_000,
      'running again',
    );
    expect(agent.runtimePids()[0]!.pid).not.toBe(pid);
    const reply = await eventually(
      () =>
        client.chat.completions
          .create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 })
          .catch(() => null),
      5_000,
    );
    expect(reply.choices[0]!.message.content).toBeTruthy();
    expect(back.restarts).toBeGreaterThanOrEqual(1);
  });

  it('an agent that restarts picks up its running replica instead of restarting it', async () => {
    const rep = (await running())!;
    const before = agent.runtimePids();
    await agent.stop();
    agent = await spawnAgent(ts.url, 'maas-join-not-needed-again', 'node-a', {
      dataDir: agent.dataDir,
      ports: '32300-32309',
      modelDirs: [dir],
    });
    expect(agent.output.join('\n')).toMatch(/adopted 1 replicas/);
    await new Promise((r) => setTimeout(r, 800));
    expect(await running()).toMatchObject({ id: rep.id, node_id: rep.node_id, restarts: rep.restarts });
    expect(agent.runtimePids()).toEqual(before);
    expect((await ts.admin.get('/api/v1/nodes')).body.data).toHaveLength(1);
  });

  it('scales to zero: the replica leaves the gateway, then its runtime stops', async () => {
    const res = await ts.admin.patch(`/api/v1/deployments/${depId}`, { replicas: 0 });
    expect(res.status).toBe(200);
    await eventually(async () => (await replicasOf(ts.admin, depId)).length === 0, 10_000, 'replica gone');
    await eventually(async () => agent.runtimePids().length === 0, 5_000, 'runtime stopped');
    const err = await client.chat.completions
      .create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 })
      .catch((e) => e);
    expect(err.status).toBeGreaterThanOrEqual(500);
  });
});
