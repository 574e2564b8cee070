import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/fleet-agents.ts';
import { createKey, openai } from './support/gateway-setup.ts';

/**
 * One machine, no setup: `maas serve` runs an agent in-process, so `maas deploy ./model.gguf
 * --name my-model` serves the model through /v1 with nothing else running.
 */
process.env.MAAS_LOCAL_AGENT = 'true';
process.env.MAAS_LOCAL_AGENT_PORTS = '32500-32509';
process.env.MAAS_HEARTBEAT_MS = '300';
process.env.MAAS_FLEET_RECONCILE_MS = '200';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let ts: TestServer;
const dir = mkdtempSync(join(tmpdir(), 'maas-local-'));
writeTinyLlama(join(dir, 'model.gguf'), { seed: 5 });

function maas(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'apps/cli/bin/maas.js'), ...args], {
      cwd: dir,
      env: { ...process.env, ...env, MAAS_CONFIG_DIR: join(dir, 'config') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

describe('maas serve with its own agent', { timeout: 60_000 }, () => {
  it('has a local node without any join token', async () => {
    const nodes = await eventually(
      async () => {
        const list = (await ts.admin.get('/api/v1/nodes')).body.data;
        return list.length === 1 && list[0].status === 'ready' && list[0].runtimes.length ? list : null;
      },
      15_000,
      'local node',
    );
    expect(nodes[0]).toMatchObject({
      local: true,
      status: 'ready',
      address: '127.0.0.1',
      port_range: [32500, 32509],
    });
    expect(nodes[0].runtimes).toContain('llama-cpp');
  });

  it('maas deploy ./model.gguf --name my-model serves it through /v1', async () => {
    // A path on the node, runtime arguments and the local node are a platform admin's to use
    // (an API key is never one): log in as the bootstrap admin.
    const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL], { MAAS_PASSWORD: ADMIN_PASSWORD });
    expect(login.code, login.stderr).toBe(0);
    const env = {};
    const run = await maas(
      [
        'deploy',
        './model.gguf',
        '--name',
        'my-model',
        '--param',
        'threads=1',
        '-o',
        'json',
        '--timeout',
        '60s',
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const dep = JSON.parse(run.stdout);
    expect(dep).toMatchObject({
      name: 'my-model',
      runtime: 'llama-cpp',
      source: join(dir, 'model.gguf'),
      parameters: { threads: 1 },
      ready_replicas: 1,
    });

    const client = openai(ts, await createKey(ts));
    const reply = await client.chat.completions.create({
      model: 'my-model',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 4,
      temperature: 0,
    });
    expect(reply.choices[0]!.message.content).toBeTruthy();
    expect(reply.model).toBe('my-model');
  });

  it('stops the runtime with the server', async () => {
    const rep = (await ts.admin.get('/api/v1/replicas')).body.data[0];
    const port = Number(new URL(rep.endpoint).port);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    await ts.close();
    const after = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(after).toBe('refused');
  });
});
