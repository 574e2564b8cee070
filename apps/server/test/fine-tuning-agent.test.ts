import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, killQuietly, spawnAgent } from './support/fleet-agents.ts';
import { createKey, openai, until } from './support/gateway-setup.ts';

/**
 * A fine-tuning run placed on a `maas agent` node (a real process joined with a join token): the
 * agent fetches the run's dataset over the training channel with its node credential, runs the
 * trainer preset and reports its lines; the server makes events and checkpoints of them.
 */
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
process.env.MAAS_HEARTBEAT_MS = '300';
process.env.MAAS_FLEET_RECONCILE_MS = '200';

let ts: TestServer;
let agent: AgentProcess;
const dir = mkdtempSync(join(tmpdir(), 'maas-ft-agent-'));
const model = writeTinyLlama(join(dir, 'tiny.gguf'), { seed: 3 });

beforeAll(async () => {
  if (!hasTorch) return;
  ts = await startTestServer();
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'ft' })).body.token;
  agent = await spawnAgent(ts.url, token, 'trainer-a', { ports: '32560-32569', modelDirs: [dir] });
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  for (const { pid } of agent?.runtimePids() ?? []) killQuietly(pid);
  await ts?.close();
});

describe.skipIf(!hasTorch)('fine-tuning on a remote agent', { timeout: 360_000 }, () => {
  it('places the run on the agent node and trains there', async () => {
    const node = await until(
      async () =>
        (await ts.admin.get('/api/v1/nodes')).body.data.find((n: { name: string }) => n.name === 'trainer-a'),
      30_000,
      'node',
    );
    const dep = await ts.admin.post('/api/v1/deployments', {
      model: 'tiny',
      runtime: 'llama-cpp',
      source: model,
      replicas: 1, // the adapter is served on the base's replica, and checked there
    });
    expect(dep.status).toBe(201);
    const client = openai(ts, await createKey(ts), { timeout: 60_000 });
    const rows = Array.from({ length: 6 }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `ping ${i}` },
          { role: 'assistant', content: 'pong' },
        ],
      }),
    );
    const file = await client.files.create({
      file: await toFile(Buffer.from(rows.join('\n')), 'p.jsonl'),
      purpose: 'fine-tune',
    });
    const job = await client.fineTuning.jobs.create({
      model: 'tiny',
      training_file: file.id,
      hyperparameters: { n_epochs: 2, batch_size: 3 },
    });
    const done = await until(
      async () => {
        const j = await client.fineTuning.jobs.retrieve(job.id);
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      300_000,
      'finished',
    );
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect((done as unknown as { maas: { node_id: string } }).maas.node_id).toBe(node.id);
    const events = [];
    for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 100 })) events.push(e.message);
    expect(events).toContain(`Training started on node ${node.id} (attempt 1)`);
    expect(events.filter((m) => /^Step \d+\/4: training loss=/.test(m))).toHaveLength(4);
    // uploaded over the training channel: the adapter and checkpoints are files of the project
    expect(done.result_files).toHaveLength(1);
    const ckpts = await client.fineTuning.jobs.checkpoints.list(job.id);
    expect(ckpts.data.length).toBeGreaterThan(0);
    for (const c of ckpts.data)
      expect((c as unknown as { maas: { file_id: string } }).maas.file_id, events.join('\n')).toMatch(
        /^file-/,
      );
    // served unmerged on the base deployment's replica on that node, checked through /v1
    expect(events.some((m) => m.startsWith('Parity check passed'))).toBe(true);
    const reply = await client.chat.completions.create({
      model: done.fine_tuned_model!,
      messages: [{ role: 'user', content: 'ping 9' }],
      max_tokens: 4,
      temperature: 0,
    });
    expect(reply.choices[0]!.message.content).toBeTruthy();
  });

  it('refuses the training channel without a node credential', async () => {
    const poll = await fetch(`${ts.url}/api/v1/agent/training/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ trainer: 'x', slots: 1, runs: [] }),
    });
    expect(poll.status).toBe(401);
    const key = await createKey(ts);
    const data = await fetch(`${ts.url}/api/v1/agent/training/runs/ftjob-x/data`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(data.status).toBe(401);
    const put = await fetch(
      `${ts.url}/api/v1/agent/training/runs/ftjob-x/artifacts?attempt=1&kind=adapter&step=1`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
        body: Buffer.from('GGUF'),
      },
    );
    expect(put.status).toBe(401);
  });
});
