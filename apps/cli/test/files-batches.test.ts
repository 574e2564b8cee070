import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// every test runs several CLI processes, each a Node start: slow on a loaded 2-core machine
vi.setConfig({ testTimeout: 90_000 });

import { completionTree } from '../src/commands/completion.ts';
import { buildProgram } from '../src/program.ts';
import { cliWith } from './support/cli.ts';

/** maas files / batches / webhooks / jobs as a child process against a real server and a fake upstream. */
let ts: TestServer;
let upstream: FakeUpstream;
const cli = cliWith();
const maas = cli.run;
const path = (name: string) => join(cli.configDir, name);

const LINES = 25;
const MAX_BYTES = 1_000_000;
const chatLine = (id: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'chat-small', messages: [{ role: 'user', content: `line ${id}` }], max_tokens: 5 },
  });
const jsonlOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  ts = await startTestServer({
    MAAS_BATCH_POLL_MS: '50',
    MAAS_BATCH_CONCURRENCY: '4',
    MAAS_FILES_MAX_BYTES: String(MAX_BYTES),
  });
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
});
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('maas files and batches', () => {
  it('says what to do when no API key is saved (exit 3)', async () => {
    const res = await maas(['files', 'ls']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/^error: .*maas keys create <name> --save.*\n$/);
    const saved = await maas(['keys', 'create', 'batch-cli', '--save', '-q']);
    expect(saved.code, saved.stderr).toBe(0);
  });

  it('uploads a JSONL, runs a batch from it, watches it complete and downloads every custom_id once', async () => {
    const ids = Array.from({ length: LINES }, (_, i) => `req-${i}`);
    writeFileSync(path('requests.jsonl'), `${ids.map(chatLine).join('\n')}\n`);

    const up = await maas(['files', 'upload', path('requests.jsonl'), '--expires-after', '2h', '-o', 'json']);
    expect(up.code, up.stderr).toBe(0);
    const file = up.json();
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'requests.jsonl' });
    expect(file.bytes).toBe(readFileSync(path('requests.jsonl')).length);
    expect(file.expires_at - file.created_at).toBe(7200);
    // piped: no progress bar, no escape codes
    expect(up.stderr).toBe('');

    const created = await maas([
      'batches',
      'create',
      '--input-file',
      file.id,
      '--endpoint',
      '/v1/chat/completions',
      '--metadata',
      'run=cli',
      '-q',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const batchId = created.stdout.trim();
    expect(batchId).toMatch(/^batch_/);

    const watched = await maas(['batches', 'watch', batchId, '--interval', '100ms']);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toContain(
      `Batch ${batchId} completed: ${LINES} of ${LINES} lines answered, 0 failed`,
    );
    expect(watched.stdout).toMatch(/^output: file-\S+ {3}maas batches download batch_\S+ -o output\.jsonl$/m);
    expect(watched.stderr).toContain('completed');

    const got = await maas(['batches', 'get', batchId, '-o', 'json']);
    expect(got.json()).toMatchObject({
      status: 'completed',
      metadata: { run: 'cli' },
      request_counts: { total: LINES, completed: LINES, failed: 0 },
    });

    const dl = await maas(['batches', 'download', batchId, '-o', path('output.jsonl')]);
    expect(dl.code, dl.stderr).toBe(0);
    expect(dl.stderr).toMatch(/^Wrote .* to .*output\.jsonl\n$/);
    const output = jsonlOf(readFileSync(path('output.jsonl'), 'utf8'));
    expect(output.map((l) => l.custom_id).sort()).toEqual([...ids].sort());
    expect(new Set(output.map((l) => l.custom_id)).size).toBe(LINES);
    for (const l of output) expect(l.response.status_code).toBe(200);

    // to stdout when no -o; no error file: exit 4
    const piped = await maas(['batches', 'download', batchId]);
    expect(jsonlOf(piped.stdout)).toHaveLength(LINES);
    const noErrors = await maas(['batches', 'download', batchId, '--errors']);
    expect(noErrors.code).toBe(4);
    expect(noErrors.stderr).toMatch(/^error: batch \S+ has no error file\n$/);
  });

  it('creates a batch from a local path (uploaded first) and follows it with --watch -o json', async () => {
    writeFileSync(path('small.jsonl'), `${['a', 'b', 'c'].map(chatLine).join('\n')}\n`);
    const res = await maas([
      'batches',
      'create',
      '--input-file',
      path('small.jsonl'),
      '--watch',
      '--interval',
      '100ms',
      '-o',
      'json',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 3 } });
    const ls = await maas(['batches', 'ls', '-o', 'json']);
    expect(ls.json().map((b: { id: string }) => b.id)).toContain(res.json().id);
  });

  it('lists, downloads and removes files; errors are one line with the documented exit codes', async () => {
    const ls = await maas(['files', 'ls', '--purpose', 'batch', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    const files = ls.json();
    expect(files.map((f: { filename: string }) => f.filename)).toEqual(
      expect.arrayContaining(['requests.jsonl', 'small.jsonl']),
    );
    const small = files.find((f: { filename: string }) => f.filename === 'small.jsonl');
    const table = await maas(['files', 'ls']);
    expect(table.stdout).toMatch(/^ID\s+FILENAME\s+PURPOSE\s+SIZE/);

    const dl = await maas(['files', 'download', small.id]);
    expect(dl.stdout).toBe(readFileSync(path('small.jsonl'), 'utf8'));

    const rm = await maas(['files', 'rm', small.id, '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe(`Deleted file ${small.id}\n`);

    const gone = await maas(['files', 'get', small.id]);
    expect(gone.code).toBe(4);
    expect(gone.stderr.split('\n')).toHaveLength(2);
    expect(gone.stderr).toMatch(/^error: /);

    const refused = await maas(['files', 'upload', path('small.jsonl'), '--purpose', 'nonsense']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^error: .*purpose.*\n$/);

    writeFileSync(path('big.jsonl'), Buffer.alloc(MAX_BYTES * 3, 'x'));
    const tooBig = await maas(['files', 'upload', path('big.jsonl')]);
    expect(tooBig.code, tooBig.stderr).toBe(5);
    expect(tooBig.stderr).toMatch(/^error: .*\n$/);

    const missing = await maas(['files', 'upload', path('nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read .*nope\.jsonl: ENOENT\n$/);

    const noBatch = await maas(['batches', 'get', 'batch_nope']);
    expect(noBatch.code).toBe(4);
    const badInput = await maas(['batches', 'create', '--input-file', 'not-a-file']);
    expect(badInput.code).toBe(2);
    const formatWord = await maas(['files', 'download', 'file-x', '-o', 'json']);
    expect(formatWord.code).toBe(2);
    const noJob = await maas(['jobs', 'get', 'job_nope']);
    expect(noJob.code).toBe(4);
    expect(noJob.stderr).toMatch(/^error: .*\n$/);
  });
});

describe('maas jobs', () => {
  it('gets an async job with --wait and shows its answer', async () => {
    const config = JSON.parse(readFileSync(join(cli.configDir, 'config.json'), 'utf8'));
    const key = config.contexts[config.current_context].inference_key;
    const res = await fetch(`${ts.url}/api/v1/async/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat-small', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const got = await maas(['jobs', 'get', id, '--wait', '--interval', '100ms', '-o', 'json']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.json()).toMatchObject({ id, status: 'succeeded', result: { object: 'chat.completion' } });
    // cancelling a finished job changes nothing
    const cancel = await maas(['jobs', 'cancel', id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(`Job ${id}: succeeded\n`);
  });
});

describe('maas webhooks', () => {
  it('creates, lists, rotates, tests and removes an endpoint; the secret is shown only at creation and rotation', async () => {
    const created = await maas([
      'webhooks',
      'create',
      '--url',
      'http://127.0.0.1:9/hooks',
      '--events',
      'batch.completed,job.*',
      '-o',
      'json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const endpoint = created.json();
    expect(endpoint).toMatchObject({ url: 'http://127.0.0.1:9/hooks', events: ['batch.completed', 'job.*'] });
    expect(endpoint.secret).toMatch(/^whsec_/);

    const ls = await maas(['webhooks', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain(endpoint.id);
    expect(ls.stdout).not.toContain(endpoint.secret);
    const got = await maas(['webhooks', 'get', endpoint.id, '-o', 'json']);
    expect(got.json().secret).toBeUndefined();

    const rotated = await maas(['webhooks', 'rotate-secret', endpoint.id, '--grace', '1h']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const secret = /signing secret: (whsec_\S+)/.exec(rotated.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(secret).not.toBe(endpoint.secret);
    expect(rotated.stdout).toContain('old secret until');
    const quiet = await maas(['webhooks', 'rotate-secret', endpoint.id, '-q']);
    expect(quiet.stdout).toMatch(/^whsec_\S+\n$/);
    const after = await maas(['webhooks', 'get', endpoint.id]);
    expect(after.stdout).not.toMatch(/whsec_/);

    const updated = await maas([
      'webhooks',
      'update',
      endpoint.id,
      '--events',
      'batch.*',
      '--disable',
      '-o',
      'json',
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.json()).toMatchObject({ events: ['batch.*'], enabled: false });

    const disabled = await maas(['webhooks', 'test', endpoint.id]);
    expect(disabled.code).toBe(5);
    expect(disabled.stderr).toMatch(/^error: .*disabled.*\n$/);
    expect((await maas(['webhooks', 'update', endpoint.id, '--enable'])).code).toBe(0);
    const sent = await maas(['webhooks', 'test', endpoint.id, '-o', 'json']);
    expect(sent.code, sent.stderr).toBe(0);
    const delivery = sent.json();
    expect(delivery).toMatchObject({ endpoint_id: endpoint.id, event_type: 'webhook.test' });
    const log = await maas(['webhooks', 'deliveries', endpoint.id, '-o', 'json']);
    expect(log.json().map((d: { id: string }) => d.id)).toContain(delivery.id);
    const replay = await maas(['webhooks', 'replay', delivery.id, '-o', 'json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.json().id).toBe(delivery.id);

    const refused = await maas([
      'webhooks',
      'create',
      '--url',
      'http://127.0.0.1:9/x',
      '--events',
      'Not An Event',
    ]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^error: .*\n$/);
    const usage = await maas(['webhooks', 'create']);
    expect(usage.code).toBe(2);

    const rm = await maas(['webhooks', 'rm', endpoint.id, '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    const gone = await maas(['webhooks', 'get', endpoint.id]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/^error: .*\n$/);
  });
});

describe('completion', () => {
  it('completes the files, batches, jobs and webhooks commands', () => {
    const paths = completionTree(buildProgram()).map((n) => n.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'files upload',
        'files download',
        'batches create',
        'batches watch',
        'batches download',
        'jobs get',
        'webhooks rotate-secret',
        'webhooks deliveries',
        'webhooks replay',
      ]),
    );
  });
});
