import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from './support/cli.ts';

/** `maas ft create|ls|get|events|checkpoints|deploy|cancel` as child processes against a server whose local node trains. */
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
process.env.MAAS_LOCAL_AGENT = 'true';
process.env.MAAS_LOCAL_AGENT_PORTS = '32580-32589';
process.env.MAAS_HEARTBEAT_MS = '300';

let ts: TestServer;
const cli = cliWith();
const maas = cli.run;

beforeAll(async () => {
  if (!hasTorch) return;
  ts = await startTestServer();
  const model = writeTinyLlama(join(cli.configDir, 'tiny.gguf'), { seed: 4 });
  const dep = await ts.admin.post('/api/v1/deployments', {
    model: 'tiny',
    runtime: 'llama-cpp',
    source: model,
    replicas: 1, // the adapter is served on the base's replica and checked through /v1
  });
  if (dep.status !== 201) throw new Error(JSON.stringify(dep.body));
  const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
    input: ADMIN_PASSWORD,
  });
  if (login.code !== 0) throw new Error(login.stderr);
  const saved = await maas(['keys', 'create', 'ft-cli', '--save', '-q']);
  if (saved.code !== 0) throw new Error(saved.stderr);
}, 120_000);
afterAll(async () => {
  await ts?.close();
});

describe.skipIf(!hasTorch)('maas ft', { timeout: 360_000 }, () => {
  it('uploads a local file, trains with --wait, lists, shows and prints events', async () => {
    const path = join(cli.configDir, 'train.jsonl');
    const row = (i: number) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `q${i}` },
          { role: 'assistant', content: 'a' },
        ],
      });
    writeFileSync(path, Array.from({ length: 4 }, (_, i) => row(i)).join('\n'));
    const created = await maas([
      'ft',
      'create',
      '--model',
      'tiny',
      '--training-file',
      path,
      '--epochs',
      '2',
      '--batch-size',
      '2',
      '--suffix',
      'cli',
      '--wait',
      '-o',
      'json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const job = JSON.parse(created.stdout);
    expect(job).toMatchObject({ status: 'succeeded', model: 'tiny' });
    expect(job.fine_tuned_model).toMatch(/^ft:tiny:org_[a-z0-9]+:cli:/);

    const ls = await maas(['ft', 'ls', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout).map((j: { id: string }) => j.id)).toContain(job.id);

    const get = await maas(['ft', 'get', job.id]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toContain(job.fine_tuned_model);

    const events = await maas(['ft', 'events', job.id]);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toMatch(/Step 4\/4: training loss=/);
    expect(events.stdout.trim().split('\n').at(-1)).toMatch(/successfully completed/);
    expect(events.stdout).toMatch(/Parity check passed/);

    const ckpts = await maas(['ft', 'checkpoints', job.id, '-o', 'json']);
    expect(ckpts.code, ckpts.stderr).toBe(0);
    const rows = JSON.parse(ckpts.stdout) as { step_number: number; maas: { file_id: string } }[];
    expect(rows.map((c) => c.step_number).at(-1)).toBe(4);
    expect(rows.every((c) => /^file-/.test(c.maas.file_id))).toBe(true);

    const deploy = await maas(['ft', 'deploy', job.id]);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toContain(
      `${job.fine_tuned_model} served on 1 replica(s) of tiny (0 newly loaded)`,
    );
    const missing = await maas(['ft', 'deploy', 'ftjob-nope']);
    expect(missing.code).toBe(4);

    const cancel = await maas(['ft', 'cancel', job.id]);
    expect(cancel.code).not.toBe(0);
    expect(cancel.stderr).toMatch(/already succeeded/);
  });

  it('shows the line errors of a bad file and exits non-zero', async () => {
    const path = join(cli.configDir, 'bad.jsonl');
    writeFileSync(path, '{"messages": []}\nnot json\n');
    const out = await maas(['ft', 'create', '--model', 'tiny', '--training-file', path]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('line 2: not valid JSON');
  });
});
