import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiClient, startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type FakeAgent, fakeAgent } from '../support/fleet-agents.ts';
import { type HostileTenant, hostileTenant } from './tenant-fixture.ts';

/**
 * Issue 13, item 1: a tenant (org operator or admin:write API key) cannot run commands through a
 * deployment. Custom runtimes, commands, free-form runtime arguments, env and local-path sources
 * are for platform admins; tenants pick a preset with typed parameters; loader variables are
 * refused for everyone; env values never come back out of the API.
 */
process.env.MAAS_FLEET_RECONCILE_MS = '200';

let ts: TestServer;
let t: HostileTenant;
let agent: FakeAgent;
const dir = mkdtempSync(join(tmpdir(), 'maas-sec-dep-'));
const localModel = writeTinyLlama(join(dir, 'model.gguf'), { seed: 3 });
const hfSource = 'hf://org/tiny/tiny.gguf';
const small = { resources: { gpu_memory_gib: 1 } };

beforeAll(async () => {
  ts = await startTestServer();
  t = await hostileTenant(ts, 'deploy');
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'sec' })).body.token;
  agent = await fakeAgent(ts.url, token, 'sec-gpu', { runtimes: ['llama-cpp', 'vllm', 'custom'] });
  agent.beat(200);
}, 60_000);
afterAll(async () => {
  agent?.stop();
  await ts?.close();
});

/** the two ways a tenant holds write access, read once the fixture exists */
const tenants = (): [string, () => ApiClient][] => [
  ['operator', () => t.operator],
  ['admin:write key', () => t.writeKey],
];

// biome-ignore lint/suspicious/noExplicitAny: test data from the JSON API
function expectRefused(res: { status: number; body: any }, status: number, words: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(status === 403 ? 'forbidden' : 'unprocessable');
  expect(res.body.error.message).toMatch(words);
}

describe('deployments: what a tenant may not set', () => {
  const hostile: [string, Record<string, unknown>, RegExp][] = [
    [
      'a custom runtime',
      { runtime: 'custom', command: 'sh -c "id > /tmp/pwned"' },
      /platform admin may set runtime/,
    ],
    ['a command', { runtime: 'vllm', command: 'sh -c id' }, /platform admin may set command/],
    ['free-form runtime args', { runtime: 'vllm', runtime_args: ['--trust-remote-code'] }, /runtime_args/],
    ['env', { runtime: 'vllm', env: { HF_HUB_OFFLINE: '1' } }, /platform admin may set env/],
    ['a local path', { source: '/etc/passwd' }, /platform admin may set source/],
    ['a file: URL', { source: 'file:///etc/shadow' }, /platform admin may set source/],
  ];
  for (const [who, client] of tenants()) {
    for (const [what, fields, words] of hostile) {
      it(`refuses ${what} to an ${who}, on create and on evaluate`, async () => {
        const body = {
          model: `m-${what.replace(/\W/g, '')}`,
          runtime: 'llama-cpp',
          source: hfSource,
          ...small,
          ...fields,
        };
        expectRefused(await client().post('/api/v1/deployments', body), 403, words);
        expectRefused(await client().post('/api/v1/deployments/evaluate', body), 403, words);
      });
    }
  }

  it('lets tenants choose a preset with typed parameters, which reach the agent as data', async () => {
    const res = await t.operator.post('/api/v1/deployments', {
      model: 'tenant-vllm',
      runtime: 'vllm',
      source: hfSource,
      parameters: { dtype: 'bfloat16', max_num_seqs: 8, enforce_eager: true },
      ...small,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.parameters).toEqual({ dtype: 'bfloat16', max_num_seqs: 8, enforce_eager: true });
    const desired = await eventually(
      async () => agent.desired.find((r) => r.deployment_id === res.body.id),
      10_000,
      'replica on the agent',
    );
    expect(desired.parameters).toEqual({ dtype: 'bfloat16', max_num_seqs: 8, enforce_eager: true });
    expect(desired.runtime_args).toEqual([]);
    expect(desired.env).toEqual({});
  });

  it('refuses privileged settings on an update of the tenant’s own deployment too', async () => {
    const own = (await t.operator.get('/api/v1/deployments')).body.data.find(
      (d: { name: string }) => d.name === 'tenant-vllm',
    );
    for (const [change, words] of [
      [{ runtime: 'custom', command: 'sh -c id' }, /platform admin may set runtime/],
      [{ command: 'sh -c id' }, /platform admin may set command/],
      [{ runtime_args: ['--trust-remote-code'] }, /platform admin may set runtime_args/],
      [{ env: { HF_HUB_OFFLINE: '1' } }, /platform admin may set env/],
      [{ source: '/root/.ssh/id_rsa' }, /platform admin may set source/],
    ] as const) {
      expectRefused(await t.writeKey.patch(`/api/v1/deployments/${own.id}`, change), 403, words);
    }
    const tuned = await t.writeKey.patch(`/api/v1/deployments/${own.id}`, { parameters: { dtype: 'half' } });
    expect(tuned.status, JSON.stringify(tuned.body)).toBe(200);
    expect(tuned.body.parameters).toEqual({ dtype: 'half' });
  });

  it('refuses parameters that are not the preset’s, or free text in one', async () => {
    const base = { model: 'bad-params', runtime: 'vllm', source: hfSource, ...small };
    expectRefused(
      await t.writeKey.post('/api/v1/deployments', { ...base, parameters: { trust_remote_code: true } }),
      422,
      /no parameter trust_remote_code/,
    );
    expectRefused(
      await t.writeKey.post('/api/v1/deployments', {
        ...base,
        parameters: { dtype: 'auto --trust-remote-code' },
      }),
      422,
      /parameters\.dtype/,
    );
    expectRefused(
      await t.writeKey.post('/api/v1/deployments', {
        ...base,
        runtime: 'llama-cpp',
        parameters: { dtype: 'half' },
      }),
      422,
      /llama-cpp runtime has no parameter dtype/,
    );
  });
});

describe('deployments: loader variables are refused for everyone', () => {
  for (const name of [
    'LD_PRELOAD',
    'NODE_OPTIONS',
    'PYTHONPATH',
    'LD_LIBRARY_PATH',
    'DYLD_INSERT_LIBRARIES',
    'BASH_ENV',
  ]) {
    it(`refuses ${name} to a platform admin`, async () => {
      const body = {
        model: `loader-${name.toLowerCase()}`,
        runtime: 'vllm',
        source: hfSource,
        env: { [name]: '/tmp/x' },
        ...small,
      };
      expectRefused(
        await t.platformAdmin.post('/api/v1/deployments', body),
        422,
        new RegExp(`${name} is a loader variable`),
      );
    });
  }
  it('refuses MAAS_* names in env', async () => {
    const body = {
      model: 'maas-env',
      runtime: 'vllm',
      source: hfSource,
      env: { MAAS_SECRET_KEY: 'x' },
      ...small,
    };
    expectRefused(await t.platformAdmin.post('/api/v1/deployments', body), 422, /reserved/);
  });
});

describe('deployments: the platform admin’s path', () => {
  let depId: string;
  it('lets a platform admin give a command, env, runtime args and a local path', async () => {
    const res = await t.platformAdmin.post('/api/v1/deployments', {
      model: 'admin-custom',
      runtime: 'custom',
      command: 'my-server --model {model_path} --port {port}',
      runtime_args: ['--verbose'],
      env: { UPSTREAM_TOKEN: 'value-that-stays-secret' },
      source: localModel,
      ...small,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    depId = res.body.id;
    // env is write-only: names come back, values never
    expect(res.body.env).toEqual({ UPSTREAM_TOKEN: '***' });
    const got = await t.operator.get(`/api/v1/deployments/${depId}`);
    expect(got.body.env).toEqual({ UPSTREAM_TOKEN: '***' });
    const listed = await t.writeKey.get('/api/v1/deployments');
    expect(JSON.stringify(listed.body)).not.toContain('value-that-stays-secret');
    const audit = await t.platformAdmin.get('/api/v1/audit-events?limit=50');
    expect(JSON.stringify(audit.body)).not.toContain('value-that-stays-secret');
    // …but the agent that runs it gets the value
    const desired = await eventually(
      async () => agent.desired.find((r) => r.deployment_id === depId),
      10_000,
      'admin replica on the agent',
    );
    expect(desired.env).toEqual({ UPSTREAM_TOKEN: 'value-that-stays-secret' });
  });

  it('a platform admin may read a local model for the dry run; a tenant is refused before any read', async () => {
    const body = { model: 'eval-local', runtime: 'llama-cpp', source: localModel };
    const admin = await t.platformAdmin.post('/api/v1/deployments/evaluate', body);
    expect(admin.status, JSON.stringify(admin.body)).toBe(200);
    expect(admin.body.estimate).not.toBeNull();
    const tenant = await t.operator.post('/api/v1/deployments/evaluate', body);
    expectRefused(tenant, 403, /platform admin may set source/);
    expect(JSON.stringify(tenant.body)).not.toMatch(/gguf|llama|weights/i);
  });

  it('the dry run needs write permission', async () => {
    const body = { model: 'eval-read', runtime: 'vllm', source: hfSource, ...small };
    const res = await t.readKey.post('/api/v1/deployments/evaluate', body);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('a tenant cannot change the spec a platform admin gave privileged settings, but may scale it', async () => {
    for (const [, client] of tenants()) {
      for (const change of [
        { context_length: 4096 },
        { command: null },
        { env: {} },
        { runtime: 'vllm', source: hfSource },
      ]) {
        expectRefused(
          await client().patch(`/api/v1/deployments/${depId}`, change),
          403,
          /settings only a platform admin may change/,
        );
      }
    }
    const scaled = await t.writeKey.patch(`/api/v1/deployments/${depId}`, { replicas: 2 });
    expect(scaled.status, JSON.stringify(scaled.body)).toBe(200);
    const updated = await t.platformAdmin.patch(`/api/v1/deployments/${depId}`, { context_length: 4096 });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
  });
});
