import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from './support/cli.ts';

/**
 * `maas nodes|deployments|replicas|top` from a terminal against a real server whose in-process
 * local node runs the testkit's tiny GGUF.
 */
const env = {
  MAAS_LOCAL_AGENT: 'true',
  MAAS_LOCAL_AGENT_PORTS: '32640-32649',
  MAAS_HEARTBEAT_MS: '300',
  MAAS_FLEET_RECONCILE_MS: '200',
};
Object.assign(process.env, env);

let ts: TestServer;
const admin = cliWith();
const viewer = cliWith();
const outsider = cliWith();
const maas = admin.run;
const model = join(mkdtempSync(join(tmpdir(), 'maas-fleet-cli-')), 'tiny.gguf');
writeTinyLlama(model, { seed: 7 });
const ann = { email: 'ann@example.com', password: 'ann-password-1' };

async function until<T>(check: () => Promise<T | null | undefined | false>, what: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs a command that refreshes until interrupted: once `ready` holds of its output, SIGINT; expects exit 0. */
async function untilInterrupted(
  args: string[],
  ready = (out: string) => out.trim().length > 0,
): Promise<string> {
  const bin = fileURLToPath(new URL('../bin/maas.js', import.meta.url));
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: admin.configDir, MAAS_CONFIG_DIR: admin.configDir },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(async () => ready(out), `output of maas ${args.join(' ')}`);
  await new Promise((r) => setTimeout(r, 1_000)); // a few more rounds
  expect(child.exitCode).toBeNull();
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  return out;
}

const login = async (cli: ReturnType<typeof cliWith>, email: string, password: string, org?: string) => {
  const res = await cli.run(
    ['login', ts.url, '--email', email, '--password-stdin', ...(org ? ['--org', org] : [])],
    {
      input: `${password}\n`,
    },
  );
  expect(res.code, res.stderr).toBe(0);
};

beforeAll(async () => {
  ts = await startTestServer(env);
  await ts.admin.post('/api/v1/users', { ...ann, role: 'viewer' });
  const orgB = (await ts.admin.post('/api/v1/orgs', { name: 'Org B' })).body.id as string;
  await login(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await login(viewer, ann.email, ann.password);
  await login(outsider, ADMIN_EMAIL, ADMIN_PASSWORD, orgB);
  await until(async () => {
    const nodes = (await ts.admin.get('/api/v1/nodes')).body.data;
    return nodes.length === 1 && nodes[0].status === 'ready' && nodes[0].runtimes.length > 0;
  }, 'the local node');
}, 120_000);
afterAll(async () => {
  await ts?.close();
});

describe('maas nodes, deployments, replicas and top', { timeout: 180_000 }, () => {
  let nodeName: string;

  it('lists the local node, cordons and uncordons it', async () => {
    const ls = await maas(['nodes', 'ls', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    const [node] = ls.json();
    expect(node).toMatchObject({ local: true, status: 'ready', schedulable: true });
    nodeName = node.name;
    const table = await maas(['nodes', 'ls']);
    expect(table.stdout).toContain(nodeName);
    expect(table.stdout).toMatch(/NAME\s+STATUS/);

    const cordon = await maas(['nodes', 'cordon', nodeName]);
    expect(cordon.code, cordon.stderr).toBe(0);
    expect(cordon.stdout).toContain('(cordoned)');
    const shown = await maas(['nodes', 'get', nodeName, '-o', 'json']);
    expect(shown.json()).toMatchObject({ id: node.id, schedulable: false });
    const uncordon = await maas(['nodes', 'uncordon', node.id, '-o', 'json']);
    expect(uncordon.code, uncordon.stderr).toBe(0);
    expect(uncordon.json()).toMatchObject({ schedulable: true, draining: false });

    const missing = await maas(['nodes', 'cordon', 'no-such-node']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('node "no-such-node" not found');
  });

  it('deploys the tiny GGUF, lists and shows the deployment, scales it to 2 and back', async () => {
    const deploy = await maas([
      'deploy',
      model,
      '--name',
      'tiny',
      '--param',
      'threads=1',
      '--timeout',
      '120s',
    ]);
    expect(deploy.code, deploy.stderr).toBe(0);

    const ls = await maas(['deployments', 'ls', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json()).toMatchObject([{ name: 'tiny', replicas: 1, ready_replicas: 1 }]);
    const get = await maas(['deployments', 'get', 'tiny']);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toMatch(/replicas:\s+1\/1 running/);

    const up = await maas(['deployments', 'scale', 'tiny', '2', '--wait', '--timeout', '120s', '-o', 'json']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.json()).toMatchObject({ name: 'tiny', replicas: 2, ready_replicas: 2 });
    const status = await maas(['deployments', 'rollout', 'status', 'tiny']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/replicas:\s+2\/2 running/);
    expect(status.stdout).toMatch(/rolled out:\s+yes/);

    const down = await maas(['deployments', 'scale', 'tiny', '1', '-o', 'json']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.json()).toMatchObject({ replicas: 1 });
    await until(async () => {
      const d = (await maas(['deployments', 'get', 'tiny', '-o', 'json'])).json();
      return d.replica_states.filter((r: { desired: string }) => r.desired === 'run').length === 1;
    }, 'one replica to run');

    const undo = await maas(['deployments', 'rollout', 'undo', 'tiny']);
    expect(undo.code).toBe(5); // nothing to go back to
    expect(undo.stderr).toMatch(/^error: /);
  });

  it('lists replicas, shows one, prints its logs; top shows the node and the replica', async () => {
    const ls = await maas(['replicas', 'ls', '--deployment', 'tiny', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    // the replica scaled away may still be running out its drain period (desired: stop)
    const running = ls
      .json()
      .filter((r: { state: string; desired: string }) => r.state === 'running' && r.desired === 'run');
    expect(running.length).toBeGreaterThanOrEqual(1);
    const rep = running[0];
    const table = await maas(['replicas', 'ls']);
    expect(table.stdout).toContain(rep.id);

    const get = await maas(['replicas', 'get', rep.id, '-o', 'json']);
    expect(get.json()).toMatchObject({ id: rep.id, deployment_id: rep.deployment_id, state: 'running' });

    const logs = await until(async () => {
      const res = await maas(['replicas', 'logs', rep.id, '--tail', '20', '-o', 'json']);
      return res.code === 0 && res.json().lines.length > 0 ? res.json() : null;
    }, 'runtime log lines');
    expect(logs.replica_id).toBe(rep.id);
    expect(logs.lines.length).toBeLessThanOrEqual(20);
    const plain = await maas(['replicas', 'logs', rep.id, '--tail', '1']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.trim().split('\n')).toHaveLength(1);

    // -f keeps asking until interrupted, then exits cleanly
    const followed = await untilInterrupted([
      'replicas',
      'logs',
      rep.id,
      '-f',
      '--tail',
      '1',
      '--interval',
      '200ms',
    ]);
    expect(followed).toContain(plain.stdout.trim());

    const top = await maas(['top', '-o', 'json']);
    expect(top.code, top.stderr).toBe(0);
    const snap = top.json();
    expect(snap.nodes.map((n: { name: string }) => n.name)).toEqual([nodeName]);
    expect(snap.replicas).toContainEqual(
      expect.objectContaining({ id: rep.id, deployment: 'tiny', node: nodeName, state: 'running' }),
    );
    const topTable = await maas(['top']);
    expect(topTable.stdout).toContain(nodeName);
    expect(topTable.stdout).toMatch(/REPLICA\s+DEPLOYMENT/);
    const rounds = (out: string) => out.match(/maas top: /g)?.length ?? 0;
    const watched = await untilInterrupted(['top', '--watch', '--interval', '300ms'], (o) => rounds(o) >= 2);
    expect(rounds(watched)).toBeGreaterThanOrEqual(2);
    expect(watched).toContain(nodeName);
  });

  it('lets a viewer look but not scale, and shows nothing to another org', async () => {
    const ls = await viewer.run(['deployments', 'ls', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json().map((d: { name: string }) => d.name)).toEqual(['tiny']);
    const scale = await viewer.run(['deployments', 'scale', 'tiny', '3']);
    expect(scale.code).toBe(3);
    expect(scale.stderr).toMatch(/^error: .*(permission|role|allowed|viewer)/i);
    const nodes = await viewer.run(['nodes', 'ls']);
    expect(nodes.code).toBe(3);
    expect(nodes.stderr).toContain('platform');
    const top = await viewer.run(['top', '-o', 'json']);
    expect(top.code, top.stderr).toBe(0);
    expect(top.json().nodes).toBeNull();

    const dep = (await maas(['deployments', 'get', 'tiny', '-o', 'json'])).json();
    const rep = dep.replica_states[0].id;
    expect((await outsider.run(['deployments', 'get', dep.id])).code).toBe(4);
    expect((await outsider.run(['deployments', 'scale', dep.id, '3'])).code).toBe(4);
    expect((await outsider.run(['replicas', 'logs', rep])).code).toBe(4);
    const theirs = await outsider.run(['replicas', 'ls', '-o', 'json']);
    expect(theirs.json()).toEqual([]);
    expect((await ts.admin.get(`/api/v1/deployments/${dep.id}`)).body.replicas).toBe(1);
  });

  it('drains the node and ends the drain', async () => {
    const drain = await maas(['nodes', 'drain', nodeName, '-o', 'json']);
    expect(drain.code, drain.stderr).toBe(0);
    expect(drain.json()).toMatchObject({ draining: true });
    const uncordon = await maas(['nodes', 'uncordon', nodeName]);
    expect(uncordon.code, uncordon.stderr).toBe(0);
    expect(uncordon.stdout).toMatch(/Uncordoned node .*: ready$/m);
  });
});
