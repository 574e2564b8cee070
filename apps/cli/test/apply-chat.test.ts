import { writeFileSync } from 'node:fs';
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

/** maas apply / export / chat / usage / status / audit, as a child process against a real server and a fake upstream. */
let ts: TestServer;
let upstream: FakeUpstream;
const cli = cliWith();
const maas = cli.run;
const file = join(cli.configDir, 'maas.yaml');
const secretEnv = { FAKE_UPSTREAM_KEY: 'upstream-secret' };

const manifest = (upstreamUrl: string) => `
providers:
  - name: fake
    base_url: ${upstreamUrl}
    api_key_env: FAKE_UPSTREAM_KEY
models:
  - name: chat-small
    aliases: [small]
    description: the small chat model
    versions:
      - version: "1"
        weight: 90
        pricing: { input_per_million: 1, output_per_million: 2 }
        targets: [{ provider: fake, upstream_model: fake-chat }]
      - version: "2"
        weight: 10
        targets: [{ provider: fake, upstream_model: fake-chat-2 }]
limits:
  - key: chat
    rpm: 600
    tpm: 100000
`;

const auditCount = async () => (await ts.admin.get('/api/v1/audit-events?limit=200')).body.data.length;

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret', chunks: 4 });
  writeFileSync(file, manifest(upstream.url));
  const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
    input: ADMIN_PASSWORD,
  });
  if (login.code !== 0) throw new Error(login.stderr);
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('maas apply', () => {
  it('refuses a file with an unknown field (exit 2) and one whose secret variable is unset (exit 2), changing nothing', async () => {
    const bad = join(cli.configDir, 'bad.yaml');
    writeFileSync(
      bad,
      'models:\n  - name: x\n    targets: [{ provider: p, upstream_model: m }]\n    colour: blue\n',
    );
    const invalid = await maas(['apply', '-f', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^error: .*models\.0.*colour/);

    const keyFirst = await maas(['keys', 'create', 'chat', '--save', '-q']);
    expect(keyFirst.stdout).toMatch(/^sk-maas-\S+\n$/);
    const unset = await maas(['apply', '-f', file]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('FAKE_UPSTREAM_KEY');
    expect((await ts.admin.get('/api/v1/providers')).body.data).toEqual([]);
  });

  it('--dry-run prints the diff and changes nothing', async () => {
    const before = await auditCount();
    const plan = await maas(['apply', '-f', file, '--dry-run', '-o', 'json'], { env: secretEnv });
    expect(plan.code, plan.stderr).toBe(0);
    const report = plan.json();
    expect(report).toMatchObject({
      dry_run: true,
      applied: false,
      summary: { create: 3, update: 0, delete: 0, unchanged: 0 },
    });
    expect(
      report.changes.map(
        (c: { action: string; kind: string; name: string }) => `${c.action} ${c.kind} ${c.name}`,
      ),
    ).toEqual(['create provider fake', 'create model chat-small', 'create limit key chat']);
    const human = await maas(['apply', '-f', file, '--dry-run'], { env: secretEnv });
    expect(human.stdout).toContain('+ model chat-small');
    expect(human.stdout).toContain('api_key: $FAKE_UPSTREAM_KEY');
    expect(human.stdout).not.toContain('upstream-secret');
    expect(await auditCount()).toBe(before);
  });

  it('applies the file, and a second run changes nothing', async () => {
    const first = await maas(['apply', '-f', file, '-o', 'json'], { env: secretEnv });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().summary).toEqual({ create: 3, update: 0, delete: 0, unchanged: 0 });
    const model = (await ts.admin.get('/api/v1/models')).body.data[0];
    expect(model).toMatchObject({ name: 'chat-small', aliases: ['small'], traffic: { '1': 90, '2': 10 } });
    expect(model.versions[0].pricing).toMatchObject({ input_per_million: 1, output_per_million: 2 });
    const [limit] = (await ts.admin.get('/api/v1/limits')).body.data;
    expect(limit).toMatchObject({ scope: 'key', rpm: 600, tpm: 100000 });

    const before = await auditCount();
    const second = await maas(['apply', '-f', file, '-o', 'json'], { env: secretEnv });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json().summary).toEqual({ create: 0, update: 0, delete: 0, unchanged: 3 });
    expect(await auditCount()).toBe(before);
  });

  it('shows and applies a change as a diff; export writes a file that applies as no change and holds no secret', async () => {
    writeFileSync(
      file,
      manifest(upstream.url).replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50'),
    );
    const diff = await maas(['apply', '-f', file], { env: secretEnv });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('~ model chat-small');
    expect(diff.stdout).toMatch(/traffic: \{"1":90,"2":10\} → \{"1":50,"2":50\}/);

    const exported = join(cli.configDir, 'exported.yaml');
    const exp = await maas(['export', '-f', exported]);
    expect(exp.code, exp.stderr).toBe(0);
    const again = await maas(['apply', '-f', exported, '--dry-run', '-o', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().summary).toMatchObject({ create: 0, update: 0, delete: 0 });
    const text = await maas(['export']);
    expect(text.stdout).toContain('api_key_env: FAKE_API_KEY');
    expect(text.stdout).not.toContain('upstream-secret');
  });
});

describe('maas chat', () => {
  it('answers one message with -m, streaming, and reports tokens and latency with --stats', async () => {
    upstream.clearRequests();
    const r = await maas(['chat', '--model', 'chat-small', '-m', 'hello gateway', '--stats']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello gateway hello gateway\n');
    expect(r.stderr).toMatch(
      /chat-small · 2 prompt \+ 4 completion = 6 tokens · first token \d+ ms · \d+ ms/,
    );
    expect(upstream.requests[0]!.headers.authorization).toBe('Bearer upstream-secret');
    expect(upstream.requests[0]!.body).toMatchObject({ stream: true });
  });

  it('reads the message from standard input, and prints JSON for scripts', async () => {
    const r = await maas(['chat', '--model', 'small', '--no-stream', '-o', 'json'], {
      input: 'one two three\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      model: 'small',
      content: 'one two three one',
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      request_id: expect.stringMatching(/^req_/),
    });
    expect(r.json().latency_ms).toBeGreaterThanOrEqual(r.json().ttft_ms);
  });

  it('exit 4 for an unknown model, exit 3 without an API key', async () => {
    const unknown = await maas(['chat', '--model', 'nope', '-m', 'hi']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/^error: .*nope/);
    const keyless = cliWith();
    await keyless.run(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
      input: ADMIN_PASSWORD,
    });
    const r = await keyless.run(['chat', '-m', 'hi']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('maas chat needs an API key');
  });
});

describe('usage, status and audit', () => {
  it('reports usage as JSON and CSV, the health of the platform and providers, and an intact audit chain', async () => {
    await ts.server.services.metering.writer.flush();
    const [usage, csv, status, verify] = await Promise.all([
      maas(['usage', '--group-by', 'model', '-o', 'json']),
      maas(['usage', '--group-by', 'model', '--csv']),
      maas(['status', '-o', 'json']),
      maas(['audit', 'verify', '-o', 'json']),
    ]);
    expect(usage.code, usage.stderr).toBe(0);
    const requests = usage.json().data.reduce((n: number, r: { requests: number }) => n + r.requests, 0);
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(csv.stdout.split('\n')[0]).toMatch(/^bucket_start,model,currency,requests/);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json()).toMatchObject({
      healthy: true,
      platform: { status: 'ready' },
      providers: [{ name: 'fake' }],
    });
    expect(verify.code).toBe(0);
    expect(verify.json()).toMatchObject({ ok: true });
  });
});
