import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAgent, fakeAgent } from '../../server/test/support/fleet-agents.ts';
import type { FleetDeployment } from '../src/commands/fleet/shapes.ts';
import { cliWith } from './support/cli.ts';

/**
 * `maas apply -f` with projects and fleet deployments, against a real server whose node is an
 * agent that speaks the protocol and reports every replica running: create, no change on a second
 * run, a scale and a rolling update followed with --wait (progress lines), prune of a deployment
 * without pruning its registry model by hand, and a viewer refused.
 */
const env = { MAAS_FLEET_RECONCILE_MS: '100', MAAS_REPLICA_DRAIN_MS: '0' };
Object.assign(process.env, env);

let ts: TestServer;
let agent: FakeAgent;
const cli = cliWith();
const viewer = cliWith();
const maas = cli.run;
const file = join(cli.configDir, 'maas.yaml');

const manifest = (replicas: number, version: string) => `
projects:
  - name: search
    description: the search team
deployments:
  - name: web-chat
    runtime: vllm
    source: /models/web-chat
    version: "${version}"
    replicas: ${replicas}
    resources: { gpu_memory_gib: 4 }
`;

const deployment = async (): Promise<FleetDeployment | undefined> =>
  ((await ts.admin.get('/api/v1/deployments')).body.data as FleetDeployment[]).find(
    (d) => d.name === 'web-chat',
  );

beforeAll(async () => {
  ts = await startTestServer(env);
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'apply' })).body.token;
  agent = await fakeAgent(ts.url, token, 'gpu-apply', { gpus: [24, 24] });
  agent.beat(150);
  await ts.admin.post('/api/v1/users', { email: 'ro@apply.test', password: 'viewer-pass-1', role: 'viewer' });
  for (const [c, email, password] of [
    [cli, ADMIN_EMAIL, ADMIN_PASSWORD],
    [viewer, 'ro@apply.test', 'viewer-pass-1'],
  ] as const) {
    const login = await c.run(['login', ts.url, '--email', email, '--password-stdin'], { input: password });
    if (login.code !== 0) throw new Error(login.stderr);
  }
}, 60_000);
afterAll(async () => {
  agent?.stop();
  await ts?.close();
});

describe('maas apply with projects and deployments', { timeout: 60_000 }, () => {
  it('refuses a deployment without a runtime (exit 2), changing nothing', async () => {
    const bad = join(cli.configDir, 'bad.yaml');
    writeFileSync(bad, 'deployments:\n  - name: x\n    source: /m\n');
    const res = await maas(['apply', '-f', bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/deployments\.0\.runtime/);
    expect(await deployment()).toBeUndefined();
  });

  it('plans, creates, waits for the rollout, and a second run changes nothing', async () => {
    writeFileSync(file, manifest(1, '1'));
    const plan = await maas(['apply', '-f', file, '--dry-run', '-o', 'json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(
      plan
        .json()
        .changes.map(
          (c: { action: string; kind: string; name: string }) => `${c.action} ${c.kind} ${c.name}`,
        ),
    ).toEqual(['create project search', 'create deployment web-chat']);
    expect(await deployment()).toBeUndefined();

    const applied = await maas(['apply', '-f', file, '--wait']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('+ deployment web-chat');
    expect(applied.stdout).toContain('Applied: 2 created');
    // without a terminal, the rollout's progress is a line per change of state, and its end
    expect(applied.stderr).toMatch(/web-chat: 1\/1 running at revision 1/);
    expect(await deployment()).toMatchObject({ replicas: 1, ready_replicas: 1, version: '1' });
    const projects = (await ts.admin.get('/api/v1/projects')).body.data as {
      name: string;
      description: string;
    }[];
    expect(projects.find((p) => p.name === 'search')?.description).toBe('the search team');

    const again = await maas(['apply', '-f', file, '-o', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().summary).toEqual({ create: 0, update: 0, delete: 0, unchanged: 2 });
  });

  it('scales and rolls out a new version as one diff, followed to the end with --wait', async () => {
    writeFileSync(file, manifest(2, '2'));
    const res = await maas(['apply', '-f', file, '--wait']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('~ deployment web-chat');
    expect(res.stdout).toMatch(/version: 1 → 2/);
    expect(res.stdout).toMatch(/replicas: 1 → 2/);
    expect(res.stderr).toMatch(/web-chat: 2\/2 running at revision 2/);
    const d = (await deployment())!;
    expect(d).toMatchObject({ ready_replicas: 2, previous_version: '1' });
    const current = d.replica_states.filter((r) => r.desired === 'run');
    expect(current.every((r) => r.revision === d.revision && r.state === 'running')).toBe(true);
  });

  it('is refused to a viewer (non-zero exit with the server’s reason), leaving the deployment as it is', async () => {
    writeFileSync(join(viewer.configDir, 'maas.yaml'), manifest(5, '2'));
    const res = await viewer.run(['apply', '-f', join(viewer.configDir, 'maas.yaml')]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/deployment web-chat: .*(permission|may not|not allowed)/i);
    expect(await deployment()).toMatchObject({ replicas: 2 });
  });

  it('--prune deletes a deployment the file no longer names (its registry model with it), never a project', async () => {
    writeFileSync(file, 'projects: []\ndeployments: []\n');
    const plan = await maas(['apply', '-f', file, '--prune', '--dry-run', '-o', 'json']);
    expect(plan.code, plan.stderr).toBe(0);
    const deletions = plan
      .json()
      .changes.filter((c: { action: string }) => c.action === 'delete')
      .map((c: { kind: string; name: string }) => `${c.kind} ${c.name}`);
    expect(deletions).toEqual(['deployment web-chat']);
    const res = await maas(['apply', '-f', file, '--prune', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    const gone = async () => (await deployment()) === undefined;
    for (let i = 0; i < 50 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await gone()).toBe(true);
    const projects = (await ts.admin.get('/api/v1/projects')).body.data as { name: string }[];
    expect(projects.map((p) => p.name)).toContain('search');
  });
});
