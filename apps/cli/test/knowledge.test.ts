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
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cliWith } from './support/cli.ts';

// each step is a CLI process (a Node start) and ingestion runs on the job engine: slow on a loaded machine
vi.setConfig({ testTimeout: 120_000 });

/** maas kb as a child process against a real server whose embeddings come from the testkit's fake upstream. */
let ts: TestServer;
let upstream: FakeUpstream;
let otherKey: string;
const cli = cliWith();
const maas = cli.run;
const path = (name: string) => join(cli.configDir, name);

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const provider = await ts.admin.post('/api/v1/providers', {
    type: 'openai-compatible',
    name: 'fake',
    base_url: upstream.url,
  });
  expect(provider.status).toBe(201);
  const model = await ts.admin.post('/api/v1/models', {
    type: 'embedding',
    name: 'embed',
    targets: [{ provider_id: provider.body.id, upstream_model: 'fake-embed' }],
  });
  expect(model.status).toBe(201);
  const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
    input: ADMIN_PASSWORD,
  });
  if (login.code !== 0) throw new Error(login.stderr);
  const saved = await maas(['keys', 'create', 'kb-cli', '--save', '-q']);
  if (saved.code !== 0) throw new Error(saved.stderr);

  // another org, with a key of its own project
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Tenant B' });
  const b = ts.client();
  await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const project = (await b.get('/api/v1/projects')).body.data[0].id;
  const key = await b.post('/api/v1/keys', { name: 'b', project_id: project, scopes: ['inference'] });
  expect(key.status).toBe(201);
  otherKey = key.body.key;
}, 120_000);
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('maas kb', () => {
  let kbId: string;

  it('creates a knowledge base with chunking settings and shows it', async () => {
    const created = await maas([
      'kb',
      'create',
      'handbook',
      '--chunk-size',
      '200',
      '--chunk-overlap',
      '40',
      '-q',
    ]);
    expect(created.code, created.stderr).toBe(0);
    kbId = created.stdout.trim();
    expect(kbId).toMatch(/^vs_/);

    const got = await maas(['kb', 'get', kbId, '-o', 'json']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.json()).toMatchObject({
      id: kbId,
      name: 'handbook',
      embedding_model: 'embed',
      file_counts: { total: 0 },
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 40 } },
    });
    const table = await maas(['kb', 'get', kbId]);
    expect(table.stdout).toMatch(/^chunking:\s+200 tokens, overlap 40$/m);

    const ls = await maas(['kb', 'ls', '-o', 'json']);
    expect(ls.json().map((k: { id: string }) => k.id)).toContain(kbId);

    const refused = await maas(['kb', 'create', 'x', '--chunk-size', '200', '--chunk-overlap', '150']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^error: .*chunk_overlap_tokens.*\n$/);
  });

  it('adds two files with --wait, shows their stages, and search finds the right one', async () => {
    writeFileSync(
      path('lighthouse.md'),
      '# Harbour\n\nThe lighthouse keeper logged every ship that passed the northern cape.\n',
    );
    writeFileSync(
      path('tea.txt'),
      'Tea plantations on the hillside were harvested twice each spring by the village.\n',
    );
    const added = await maas([
      'kb',
      'add',
      kbId,
      path('lighthouse.md'),
      path('tea.txt'),
      '--wait',
      '--interval',
      '200ms',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^FILE\s+FILENAME\s+STATUS\s+STAGE\s+STAGES\s+CHUNKS\s+ERROR$/m);
    expect(added.stdout).toMatch(
      /lighthouse\.md\s+completed\s+done\s+parse \d+s, split \d+s, embed \d+s, index \d+s\s+1/,
    );
    expect(added.stdout).toMatch(/tea\.txt\s+completed\s+done/);
    // not a terminal: one note per upload and per state change on stderr, no escape codes
    expect(added.stderr).toMatch(/^Uploaded .*lighthouse\.md \(\d+ B\) as file-/m);
    expect(added.stderr).toMatch(/^tea\.txt: completed done$/m);
    expect(added.stderr).not.toContain('\u001b[');

    const files = await maas(['kb', 'files', kbId, '-o', 'json']);
    expect(files.code, files.stderr).toBe(0);
    const rows = files.json();
    expect(rows).toHaveLength(2);
    for (const f of rows) {
      expect(f).toMatchObject({ status: 'completed', last_error: null });
      for (const stage of ['parse', 'split', 'embed', 'index'])
        expect(f.stages[stage].finished_at).toBeGreaterThanOrEqual(f.stages[stage].started_at);
    }
    const got = await maas(['kb', 'get', kbId, '-o', 'json']);
    expect(got.json()).toMatchObject({ status: 'completed', file_counts: { completed: 2, total: 2 } });

    const hits = await maas(['kb', 'search', kbId, 'lighthouse keeper ship', '-n', '5', '-o', 'json']);
    expect(hits.code, hits.stderr).toBe(0);
    const page = hits.json();
    expect(page.data[0].filename).toBe('lighthouse.md');
    expect(page.data[0].score_breakdown.lexical_rank).toBe(1);
    expect(page.data.length).toBeLessThanOrEqual(5);

    const table = await maas(['kb', 'search', kbId, 'tea plantations', '-n', '1']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^SCORE\s+DENSE\s+LEXICAL\s+RERANK\s+FILE\s+TEXT$/m);
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
    // no rerank model on this store: the rerank column is empty
    expect(table.stdout).toMatch(/^\d\.\d{3}\s+\S+ #\S+\s+\S+ #1\s+-\s+tea\.txt\s+Tea plantations/m);
  });

  it('filters a search by file attributes', async () => {
    writeFileSync(path('ledger.txt'), 'The harbour ledger of 1907 lists the ships that passed the cape.\n');
    const added = await maas([
      'kb',
      'add',
      kbId,
      path('ledger.txt'),
      '--attribute',
      'year=1907',
      '--wait',
      '-o',
      'json',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()[0]).toMatchObject({ filename: 'ledger.txt', attributes: { year: 1907 } });
    const hits = await maas(['kb', 'search', kbId, 'ships cape', '--filter', 'year=1907', '-o', 'json']);
    expect(hits.code, hits.stderr).toBe(0);
    expect(hits.json().data.map((h: { filename: string }) => h.filename)).toEqual(['ledger.txt']);
    const bad = await maas(['kb', 'search', kbId, 'ships', '--filter', 'year']);
    expect(bad.code).toBe(2);
  });

  it('a file that cannot be ingested fails with its error and a non-zero exit', async () => {
    writeFileSync(path('broken.pdf'), '%PDF-1.7 this is not really a pdf');
    const res = await maas(['kb', 'add', kbId, path('broken.pdf'), '--wait', '--interval', '200ms']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/broken\.pdf\s+failed\s+parse\s+.*invalid_file: /);
    expect(res.stderr).toMatch(
      /^error: 1 of 1 file\(s\) not ingested:\n {2}broken\.pdf \(file-\S+\) failed: invalid_file: .*pdf/im,
    );

    const files = await maas(['kb', 'files', kbId, '-o', 'json']);
    const broken = files.json().find((f: { filename: string }) => f.filename === 'broken.pdf');
    expect(broken).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file' } });
    expect(broken.stages.parse.error).toBeTruthy();

    const missing = await maas(['kb', 'add', kbId, path('nope.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read .*nope\.txt: ENOENT\n$/);
  });

  it("another org's key sees none of it (exit 4)", async () => {
    const key = ['--api-key', otherKey];
    const ls = await maas(['kb', 'ls', '-o', 'json', ...key]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json()).toEqual([]);
    for (const args of [
      ['kb', 'get', kbId],
      ['kb', 'files', kbId],
      ['kb', 'search', kbId, 'lighthouse'],
      ['kb', 'add', kbId, path('tea.txt')],
      ['kb', 'rm', kbId, '--yes'],
    ]) {
      const res = await maas([...args, ...key]);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(4);
      expect(res.stderr).toMatch(/^error: .*\n$/);
      expect(res.stdout).toBe('');
    }
    // still there for its owner
    const mine = await maas(['kb', 'get', kbId, '-o', 'json']);
    expect(mine.json().file_counts.total).toBe(4);
  });

  it('removes a knowledge base; then it is not found', async () => {
    const rm = await maas(['kb', 'rm', kbId, '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe(`Deleted knowledge base ${kbId}\n`);
    const gone = await maas(['kb', 'get', kbId]);
    expect(gone.code).toBe(4);
  });
});
