import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/fleet-agents.ts';
import { type HostileTenant, hostileTenant } from './tenant-fixture.ts';

/**
 * Issue 13, items 1 and 2, on the real in-process agent of `maas serve`: a runtime starts with an
 * allow-listed environment (none of the server's secrets), its log is 0600 and its work directory
 * 0700, the log lines the API returns are redacted; tenants get no replicas on the local node
 * (which runs as the server's user) until a platform admin opens it to them.
 */
process.env.MAAS_LOCAL_AGENT = 'true';
process.env.MAAS_LOCAL_AGENT_PORTS = '32760-32769';
process.env.MAAS_HEARTBEAT_MS = '300';
process.env.MAAS_FLEET_RECONCILE_MS = '200';

const SECRETS = {
  MAAS_SECRET_KEY: `${'c0ffee'.repeat(10)}c0ff`,
  MAAS_ADMIN_PASSWORD: 'server-admin-password-not-for-runtimes',
  DATABASE_URL: 'postgres://maas:db-password-not-for-runtimes@db.internal/maas',
  REDIS_URL: 'redis://:redis-password-not-for-runtimes@cache.internal:6379',
  HF_TOKEN: 'hf_agent_token_not_for_runtimes',
};
const saved = Object.fromEntries(Object.keys(SECRETS).map((k) => [k, process.env[k]]));

let ts: TestServer;
let t: HostileTenant;
let localNodeId: string;
const dir = mkdtempSync(join(tmpdir(), 'maas-sec-env-'));
const model = writeTinyLlama(join(dir, 'model.gguf'), { seed: 7 });
const dumpFile = join(dir, 'runtime-report.json');
const script = join(dir, 'dump-env.cjs');
writeFileSync(
  script,
  `const http = require('node:http');
const fs = require('node:fs');
const [port, out] = process.argv.slice(2);
fs.writeFileSync(out, JSON.stringify({ env: process.env, cwd: process.cwd() }));
console.log('leaked key sk-maas-' + 'A1'.repeat(16));
console.log('connecting to postgres://maas:hunter2hunter2@db.internal/maas');
console.log('Authorization: Bearer ' + 'tok3n'.repeat(8));
console.log('deployment value ' + process.env.DEPLOY_SETTING);
console.log('own credential ' + (process.env.MAAS_REPLICA_API_KEY || 'none-given'));
console.log('runtime up');
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/health' ? '{}' : JSON.stringify({ object: 'list', data: [] }));
  })
  .listen(Number(port), '127.0.0.1');
`,
);

beforeAll(async () => {
  ts = await startTestServer();
  // what the server's own process holds: the agent inside it must not hand any of it to runtimes
  Object.assign(process.env, SECRETS);
  t = await hostileTenant(ts, 'runtime-env');
  const node = await eventually(
    async () => {
      const list = (await ts.admin.get('/api/v1/nodes')).body.data;
      return list.find(
        (n: { local: boolean; runtimes: string[] }) => n.local && n.runtimes.includes('custom'),
      );
    },
    20_000,
    'local node',
  );
  localNodeId = node.id;
  expect(node.tenant_workloads).toBe(false);
}, 60_000);
afterAll(async () => {
  await ts?.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('runtime environment and files', { timeout: 60_000 }, () => {
  it("starts a platform admin's custom runtime without the server's secrets, with owner-only files", async () => {
    const res = await t.platformAdmin.post('/api/v1/deployments', {
      model: 'env-dump',
      runtime: 'custom',
      command: `"${process.execPath}" "${script}" {port} "${dumpFile}"`,
      env: { DEPLOY_SETTING: 'deploy-setting-value-42' },
      source: model,
      resources: { gpu_memory_gib: 0.01 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const rep = await eventually(
      async () => {
        const d = (await t.platformAdmin.get(`/api/v1/deployments/${res.body.id}`)).body;
        return d.replica_states.find((r: { state: string }) => r.state === 'running');
      },
      30_000,
      'runtime running',
    );
    expect(rep.node_id).toBe(localNodeId);

    const report = JSON.parse(readFileSync(dumpFile, 'utf8')) as { env: Record<string, string>; cwd: string };
    for (const name of Object.keys(SECRETS)) expect(report.env[name], name).toBeUndefined();
    // the only MAAS_* names are the ones the agent sets for this replica
    const own = Object.keys(report.env).filter((k) => k.startsWith('MAAS_'));
    expect(own).toContain('MAAS_REPLICA_ID');
    expect(own.filter((k) => !k.startsWith('MAAS_REPLICA_'))).toEqual([]);
    expect(JSON.stringify(report.env)).not.toMatch(/not-for-runtimes/);
    expect(report.env.DEPLOY_SETTING).toBe('deploy-setting-value-42');
    expect(report.env.PATH).toBe(process.env.PATH);

    expect(statSync(report.cwd).mode & 0o777).toBe(0o700);
    expect(statSync(join(report.cwd, 'runtime.log')).mode & 0o777).toBe(0o600);
    expect(statSync(join(report.cwd, 'runtime.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(report.cwd, 'spec.json')).mode & 0o777).toBe(0o600);

    // the log lines the API hands out are redacted; the file itself stays owner-only
    const lines = await eventually(
      async () => {
        const body = (await t.operator.get(`/api/v1/replicas/${rep.id}/logs`)).body;
        return body.lines?.some((l: string) => l.includes('runtime up')) ? (body.lines as string[]) : null;
      },
      15_000,
      'runtime log lines',
    );
    const text = lines.join('\n');
    expect(text).toContain('sk-maas-[redacted]');
    expect(text).toContain('postgres://maas:[redacted]@db.internal/maas');
    expect(text).toContain('Bearer [redacted]');
    expect(text).toContain('deployment value [redacted]');
    expect(text).not.toMatch(/A1A1A1|hunter2|tok3ntok3n|deploy-setting-value-42/);
    const credential = report.env.MAAS_REPLICA_API_KEY;
    if (credential) {
      expect(text).toContain('own credential [redacted]');
      expect(text).not.toContain(credential);
    }
    await t.platformAdmin.delete(`/api/v1/deployments/${res.body.id}`);
  });

  it("keeps tenants' replicas off the local node until a platform admin opens it, and says why", async () => {
    const dry = {
      model: 'dry-local',
      runtime: 'llama-cpp',
      source: 'hf://org/tiny/tiny.gguf',
      resources: { gpu_memory_gib: 0.01 },
    };
    const tenantDry = await t.writeKey.post('/api/v1/deployments/evaluate', dry);
    expect(tenantDry.status, JSON.stringify(tenantDry.body)).toBe(200);
    expect(tenantDry.body.fits).toBe(false);
    expect(tenantDry.body.funnel).toContainEqual({ stage: 'tenancy', nodes: 0, dropped: { admin_only: 1 } });
    const adminDry = await t.platformAdmin.post('/api/v1/deployments/evaluate', dry);
    expect(adminDry.body.fits).toBe(true);

    const res = await t.operator.post('/api/v1/deployments', {
      model: 'tenant-on-local',
      runtime: 'llama-cpp',
      source: 'hf://org/tiny/tiny.gguf',
      resources: { gpu_memory_gib: 0.01 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const pending = await eventually(
      async () => {
        const d = (await t.operator.get(`/api/v1/deployments/${res.body.id}`)).body;
        const r = d.replica_states[0];
        return r?.state === 'pending' && r.reason ? r : null;
      },
      10_000,
      'pending reason',
    );
    expect(pending.node_id).toBeNull();
    expect(pending.reason).toMatch(/0 of 1 nodes accept tenants' deployments .*tenant_workloads/);

    // the node setting is the platform admin's: a tenant does not even learn the node exists
    expect((await t.operator.patch(`/api/v1/nodes/${localNodeId}`, { tenant_workloads: true })).status).toBe(
      404,
    );
    expect((await t.writeKey.patch(`/api/v1/nodes/${localNodeId}`, { tenant_workloads: true })).status).toBe(
      404,
    );
    const opened = await ts.admin.patch(`/api/v1/nodes/${localNodeId}`, { tenant_workloads: true });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect(opened.body.tenant_workloads).toBe(true);
    const placed = await eventually(
      async () => {
        const d = (await t.operator.get(`/api/v1/deployments/${res.body.id}`)).body;
        return d.replica_states.find((r: { node_id: string | null }) => r.node_id === localNodeId);
      },
      10_000,
      'placed on the local node',
    );
    expect(placed.state).not.toBe('pending');
    await t.operator.delete(`/api/v1/deployments/${res.body.id}`);
    await ts.admin.patch(`/api/v1/nodes/${localNodeId}`, { tenant_workloads: false });
  });
});
