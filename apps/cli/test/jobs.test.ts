import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from './support/cli.ts';

/** `maas jobs ls` as a child process against a real server: a table, --status, --limit, --json. */
let ts: TestServer;
let upstream: FakeUpstream;
const cli = cliWith();
const maas = cli.run;
const ids: string[] = [];
let failedId = '';

async function submit(key: string, model: string): Promise<string> {
  const res = await fetch(`${ts.url}/api/v1/async/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function settled(key: string, id: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${ts.url}/api/v1/async/jobs/${id}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const { status } = (await res.json()) as { status: string };
    if (['succeeded', 'failed', 'cancelled'].includes(status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret' });
  const provider = await ts.admin.post('/api/v1/providers', {
    type: 'openai-compatible',
    name: 'fake',
    base_url: upstream.url,
    api_key: 'upstream-secret',
  });
  expect(provider.status).toBe(201);
  const model = await ts.admin.post('/api/v1/models', {
    type: 'chat',
    name: 'chat-small',
    targets: [{ provider_id: provider.body.id, upstream_model: 'fake-chat' }],
  });
  expect(model.status).toBe(201);
  const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
    input: ADMIN_PASSWORD,
  });
  if (login.code !== 0) throw new Error(login.stderr);
  const saved = await maas(['keys', 'create', 'jobs-cli', '--save', '-q']);
  expect(saved.code, saved.stderr).toBe(0);
  const config = JSON.parse(readFileSync(join(cli.configDir, 'config.json'), 'utf8'));
  const key = config.contexts[config.current_context].inference_key;
  for (let i = 0; i < 3; i++) ids.push(await submit(key, 'chat-small'));
  failedId = await submit(key, 'no-such-model');
  for (const id of [...ids, failedId]) await settled(key, id);
}, 120_000);

afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('maas jobs ls', { timeout: 60_000 }, () => {
  it("lists the key's project's jobs newest first as a table, with the error text", async () => {
    const res = await maas(['jobs', 'ls']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+ENDPOINT\s+MODEL\s+CREATED\s+FINISHED\s+ERROR/i);
    const order = [failedId, ...[...ids].reverse()];
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(order);
    expect(lines[1]).toMatch(/failed\s+\/v1\/chat\/completions\s+no-such-model/);
    expect(lines[1]).toMatch(/no-such-model.*\S+.*\S+/);
    expect(lines[2]).toMatch(/succeeded\s+\/v1\/chat\/completions\s+chat-small/);
  });

  it('filters by --status, stops at --limit (across pages) and prints JSON with --json or -o json', async () => {
    const failed = await maas(['jobs', 'ls', '--status', 'failed', '--json']);
    expect(failed.code, failed.stderr).toBe(0);
    const rows = failed.json() as { id: string; status: string; error: { message: string } }[];
    expect(rows.map((r) => r.id)).toEqual([failedId]);
    expect(rows[0]!.error.message.length).toBeGreaterThan(0);
    const two = await maas(['jobs', 'ls', '--limit', '2', '-o', 'json']);
    expect(two.code, two.stderr).toBe(0);
    expect((two.json() as { id: string }[]).map((r) => r.id)).toEqual([failedId, ids[2]]);
    const succeeded = await maas(['jobs', 'ls', '--status', 'succeeded', '--json']);
    expect((succeeded.json() as { id: string }[]).map((r) => r.id)).toEqual([...ids].reverse());
  });

  it('refuses a bad --status or --limit (exit 2) and a key of another project sees none', async () => {
    const bad = await maas(['jobs', 'ls', '--status', 'done']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--status must be one of/);
    expect((await maas(['jobs', 'ls', '--limit', '0'])).code).toBe(2);
    const project = await ts.admin.post('/api/v1/projects', { name: 'cli-other' });
    const other = await ts.admin.post('/api/v1/keys', {
      name: 'other',
      project_id: project.body.id,
      scopes: ['inference'],
    });
    const res = await maas(['jobs', 'ls', '--json', '--api-key', other.body.key]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json()).toEqual([]);
  });
});
