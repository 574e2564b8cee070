import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiClient,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, createProvider, issueKey, until } from './support/gateway-setup.ts';

/**
 * The console's knowledge bases (/api/v1/projects/:id/knowledge-bases) with a session: create with
 * an embedding model of the registry, upload with ingestion per stage, chunks, search, settings
 * that re-index, expiry swept; paid by the person (job payload, usage by user, user limits); and
 * the hostile tenant: another org, a viewer, another project's member and key, bad bodies.
 */
let ts: TestServer;
let upstream: FakeUpstream;
let projectA: string;
let projectB: string;
let ownerId: string;
let viewer: ApiClient;
let outsider: ApiClient;
let kb: string;
let docId: string;

const DOC = [
  'The lighthouse keeper logged every ship that passed the northern cape.',
  'Tea plantations on the hillside were harvested twice each spring.',
].join('\n\n');
const LONG = Array.from({ length: 300 }, (_, i) => `Paragraph ${i} tells of field ${i % 7}.`).join('\n\n');

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test
type Json = Record<string, any>;

const kbs = (project: string) => `/api/v1/projects/${project}/knowledge-bases`;

async function newUser(email: string, role: string): Promise<{ client: ApiClient; id: string }> {
  const res = await ts.admin.post('/api/v1/users', { email, password: `${email}-password`, role });
  expect(res.status).toBe(201);
  const client = ts.client();
  await client.login(email, `${email}-password`);
  return { client, id: res.body.id };
}

/** A multipart upload of `text` as `name`, with the client's session (or key). */
async function upload(client: ApiClient, project: string, kbId: string, name: string, text: string) {
  const form = new FormData();
  form.append('file', new Blob([text], { type: 'text/plain' }), name);
  const res = await fetch(`${ts.url}${kbs(project)}/${kbId}/documents/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.token}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const documentOf = async (kbId: string, fileId: string, client = ts.admin) =>
  ((await client.get(`${kbs(projectA)}/${kbId}/documents`)).body.data as { id: string }[]).find(
    (d) => d.id === fileId,
  ) as Json | undefined;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_KNOWLEDGE_SWEEP_INTERVAL_MS: '200' });
  upstream = await startFakeUpstream();
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  await createModel(ts, {
    name: 'embed',
    type: 'embedding',
    targets: [{ provider_id: provider, upstream_model: 'fake-embed' }],
  });
  await createModel(ts, { name: 'chat', targets: [{ provider_id: provider, upstream_model: 'fake-chat' }] });
  projectA = (await ts.admin.get('/api/v1/projects')).body.data[0].id;
  projectB = (await ts.admin.post('/api/v1/projects', { name: 'kb-b' })).body.id;
  ownerId = (await ts.admin.get('/api/v1/me')).body.user.id;
  viewer = (await newUser('kb-viewer@example.com', 'viewer')).client;
  // an org role that holds nothing of knowledge bases, and operator in project B only
  const role = await ts.admin.post('/api/v1/roles', { name: 'kb-outsider', permissions: ['projects:read'] });
  expect(role.status).toBe(201);
  const out = await newUser('kb-outsider@example.com', 'viewer');
  outsider = out.client;
  const membership = (await ts.admin.get('/api/v1/memberships')).body.data.find(
    (m: { user_id: string }) => m.user_id === out.id,
  ).id;
  expect((await ts.admin.patch(`/api/v1/memberships/${membership}`, { role_id: role.body.id })).status).toBe(
    200,
  );
  expect(
    (await ts.admin.request('PUT', `/api/v1/projects/${projectB}/members/${out.id}`, { role: 'operator' }))
      .status,
  ).toBe(200);
}, 60_000);
afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('knowledge bases in the console API', () => {
  it('creates a knowledge base with an embedding model of the registry, and refuses bad settings', async () => {
    const created = await ts.admin.post(kbs(projectA), {
      name: 'Harbour',
      embedding_model: 'embed',
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 100 },
      },
      retrieval: { max_num_results: 5 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      project_id: projectA,
      name: 'Harbour',
      embedding_model: 'embed',
      status: 'completed',
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 100 },
      },
      retrieval: { ranker: 'auto', max_num_results: 5, score_threshold: 0 },
      file_counts: { total: 0 },
    });
    expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    kb = created.body.id;

    const chatModel = await ts.admin.post(kbs(projectA), { name: 'x', embedding_model: 'chat' });
    expect(chatModel.status).toBe(400);
    expect(chatModel.body.error.message).toContain("'chat' is not an embedding model");
    const unknown = await ts.admin.post(kbs(projectA), { name: 'x', embedding_model: 'nope' });
    expect(unknown.status).toBe(400);
    const overlap = await ts.admin.post(kbs(projectA), {
      name: 'x',
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 150 },
      },
    });
    expect(overlap.status).toBe(400);
    expect(JSON.stringify(overlap.body.error)).toContain('chunk_overlap_tokens must not exceed half');
    const extra = await ts.admin.post(kbs(projectA), { name: 'x', colour: 'blue' });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body.error)).toContain('colour');
    const rerank = await ts.admin.post(kbs(projectA), { name: 'x', retrieval: { rerank_model: 'embed' } });
    expect(rerank.status).toBe(400);
    expect(rerank.body.error.message).toContain('not a rerank model');
    const models = await ts.admin.get(`${kbs(projectA)}/models`);
    expect(models.body.data).toEqual([{ name: 'embed', type: 'embedding' }]);
    const listed = await ts.admin.get(kbs(projectA));
    expect(listed.body.data.map((k: { id: string }) => k.id)).toEqual([kb]);
    expect(listed.body.next_cursor).toBeNull();
  });

  it('uploads a document, follows it through every stage, shows its chunks and searches it', async () => {
    const added = await upload(ts.admin, projectA, kb, 'harbour.txt', DOC);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      filename: 'harbour.txt',
      status: 'in_progress',
      knowledge_base_id: kb,
    });
    docId = added.body.id;
    const done = await until(async () => {
      const d = await documentOf(kb, docId);
      return d?.status === 'completed' ? d : null;
    }, 30_000);
    for (const stage of ['parse', 'split', 'embed', 'index'])
      expect(done.stages[stage]).toMatchObject({ error: null, finished_at: expect.any(Number) });
    const chunks = await ts.admin.get(`${kbs(projectA)}/${kb}/documents/${docId}/chunks`);
    expect(chunks.status).toBe(200);
    expect(chunks.body.data.map((c: { text: string }) => c.text).join('\n\n')).toBe(DOC);

    const found = await viewer.post(`${kbs(projectA)}/${kb}/search`, { query: 'lighthouse keeper' });
    expect(found.status).toBe(200);
    expect(found.body.search_query).toEqual(['lighthouse keeper']);
    expect(found.body.data[0]).toMatchObject({ file_id: docId, filename: 'harbour.txt' });
    expect(found.body.data[0].score_breakdown.lexical).toBeGreaterThan(0);

    // a file already in the project's /v1/files is added by id
    const filesKey = await issueKey(ts, { project_id: projectA });
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', new Blob(['Plum dumplings need ripe plums.'], { type: 'text/plain' }), 'plums.txt');
    const file = await fetch(`${ts.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${filesKey.key}` },
      body: form,
    });
    const fileId = ((await file.json()) as { id: string }).id;
    const byId = await ts.admin.post(`${kbs(projectA)}/${kb}/documents`, {
      file_id: fileId,
      attributes: { kind: 'recipe' },
    });
    expect(byId.status).toBe(201);
    expect(byId.body.attributes).toEqual({ kind: 'recipe' });
    await until(async () => (await documentOf(kb, fileId))?.status === 'completed', 30_000);
    const filtered = await ts.admin.post(`${kbs(projectA)}/${kb}/search`, {
      query: 'plums',
      filters: { type: 'eq', key: 'kind', value: 'recipe' },
    });
    expect(filtered.body.data.map((h: { file_id: string }) => h.file_id)).toEqual([fileId]);
    const missing = await ts.admin.post(`${kbs(projectA)}/${kb}/documents`, { file_id: 'file-nope' });
    expect(missing.status).toBe(404);
    expect((await ts.admin.delete(`${kbs(projectA)}/${kb}/documents/${fileId}`)).status).toBe(204);
    expect(await documentOf(kb, fileId)).toBeUndefined();
  }, 90_000);

  it('bills the person: ingestion is recorded as theirs, usage names them, their limits apply', async () => {
    const db = ts.server.services.database.db;
    const { rows } = (await db.execute(
      sql`select payload from jobs where queue = 'knowledge.ingest' and payload->>'store_id' = ${kb}`,
    )) as unknown as { rows: { payload: Record<string, unknown> }[] };
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.payload.user_id).toBe(ownerId);
      expect(r.payload.key_id).toBeUndefined();
    }
    await ts.server.services.metering.writer.flush();
    const usage = await ts.admin.get(
      `/api/v1/usage?group_by=user&model=embed&granularity=hour&project_id=${projectA}`,
    );
    expect(usage.status).toBe(200);
    const users = usage.body.data.map((r: { user_id: string }) => r.user_id);
    expect(users).toContain(ownerId);

    // a limit of one request a minute on the viewer: their second search is refused with a 429
    const viewerId = (await viewer.get('/api/v1/me')).body.user.id;
    const limit = await ts.admin.post('/api/v1/limits', { scope: 'user', scope_id: viewerId, rpm: 1 });
    expect(limit.status).toBe(201);
    await until(async () => {
      const res = await viewer.post(`${kbs(projectA)}/${kb}/search`, { query: 'tea' });
      return res.status === 429 ? res : null;
    }, 10_000);
    await ts.admin.delete(`/api/v1/limits/${limit.body.id}`);
  }, 30_000);

  it('changes the settings: new chunking re-indexes every document, a chat model is refused', async () => {
    const doc = await upload(ts.admin, projectA, kb, 'fields.md', LONG);
    const first = await until(async () => {
      const d = await documentOf(kb, doc.body.id);
      return d?.status === 'completed' ? d : null;
    }, 30_000);
    const changed = await ts.admin.patch(`${kbs(projectA)}/${kb}`, {
      name: 'Harbour (small chunks)',
      description: 'smaller pieces',
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } },
      retrieval: { score_threshold: 0.1 },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      name: 'Harbour (small chunks)',
      description: 'smaller pieces',
      retrieval: { max_num_results: 5, score_threshold: 0.1 },
    });
    const second = await until(async () => {
      const d = await documentOf(kb, doc.body.id);
      return d?.status === 'completed' && d.chunk_count !== first.chunk_count ? d : null;
    }, 60_000);
    expect(second.chunk_count).toBeGreaterThan(first.chunk_count);
    expect(second.chunking_strategy.static).toEqual({ max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 });

    const chat = await ts.admin.patch(`${kbs(projectA)}/${kb}`, { embedding_model: 'chat' });
    expect(chat.status).toBe(400);
    expect(chat.body.error.message).toContain('not an embedding model');
    const badRanker = await ts.admin.patch(`${kbs(projectA)}/${kb}`, { retrieval: { ranker: 'best' } });
    expect(badRanker.status).toBe(400);

    const reindexed = await ts.admin.post(`${kbs(projectA)}/${kb}/reindex`);
    expect(reindexed.status).toBe(200);
    expect(reindexed.body.file_counts.in_progress).toBeGreaterThan(0);
    await until(async () => {
      const k = (await ts.admin.get(`${kbs(projectA)}/${kb}`)).body;
      return k.file_counts.in_progress === 0 && k.file_counts.completed === k.file_counts.total;
    }, 60_000);
    const audit = await ts.admin.get(`/api/v1/audit-events?target=${kb}`);
    const actions = audit.body.data.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'knowledge_base.create',
        'knowledge_base.update',
        'knowledge_base.reindex',
        'knowledge_base.document.add',
        'knowledge_base.document.remove',
      ]),
    );
  }, 120_000);

  it('lets a viewer read and search but not write', async () => {
    expect((await viewer.get(kbs(projectA))).status).toBe(200);
    expect((await viewer.get(`${kbs(projectA)}/${kb}/documents`)).status).toBe(200);
    const refused = [
      await viewer.post(kbs(projectA), { name: 'mine' }),
      await viewer.patch(`${kbs(projectA)}/${kb}`, { name: 'mine' }),
      await viewer.delete(`${kbs(projectA)}/${kb}`),
      await viewer.post(`${kbs(projectA)}/${kb}/reindex`),
      await viewer.delete(`${kbs(projectA)}/${kb}/documents/${docId}`),
      await upload(viewer, projectA, kb, 'v.txt', 'viewer text'),
    ];
    for (const res of refused) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });

  it('keeps other orgs, other projects’ members and other projects’ keys out', async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'KB tenant B' });
    const other = ts.client();
    await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const theirProject = (await other.get('/api/v1/projects')).body.data[0].id;
    for (const res of [
      await other.get(kbs(projectA)),
      await other.get(`${kbs(projectA)}/${kb}`),
      await other.post(`${kbs(projectA)}/${kb}/search`, { query: 'tea' }),
      await other.delete(`${kbs(projectA)}/${kb}`),
      // their own project, our knowledge base's id
      await other.get(`${kbs(theirProject)}/${kb}`),
      await other.get(`${kbs(theirProject)}/${kb}/documents/${docId}/chunks`),
    ])
      expect(res.status).toBe(404);

    // operator in project B, nothing in project A
    expect((await outsider.get(kbs(projectA))).status).toBe(403);
    expect((await outsider.get(`${kbs(projectB)}/${kb}`)).status).toBe(404);
    const own = await outsider.post(kbs(projectB), { name: 'B notes' });
    expect(own.status).toBe(201);
    expect((await outsider.get(kbs(projectB))).body.data.map((k: { id: string }) => k.id)).toEqual([
      own.body.id,
    ]);

    // an admin key of project B reaches project B's knowledge bases only
    const keyB = ts.client((await issueKey(ts, { project_id: projectB, scopes: ['admin:write'] })).key);
    expect((await keyB.get(kbs(projectA))).status).toBe(403);
    expect((await keyB.get(`${kbs(projectA)}/${kb}`)).status).toBe(403);
    expect((await keyB.get(kbs(projectB))).status).toBe(200);
    // an inference key is no admin credential at all
    const inference = ts.client((await issueKey(ts, { project_id: projectA })).key);
    expect((await inference.get(kbs(projectA))).status).toBe(403);
  });

  it('sweeps an expired knowledge base: its chunks go, it reads as expired and refuses searches', async () => {
    const created = await ts.admin.post(kbs(projectA), {
      name: 'Short-lived',
      expires_after: { anchor: 'last_active_at', days: 1 },
    });
    const id = created.body.id as string;
    expect(created.body.expires_at).not.toBeNull();
    const doc = await upload(ts.admin, projectA, id, 'short.txt', DOC);
    await until(async () => (await documentOf(id, doc.body.id))?.status === 'completed', 30_000);
    expect((await ts.admin.get(`${kbs(projectA)}/${id}`)).body.usage_bytes).toBeGreaterThan(0);

    // a day and more later
    const db = ts.server.services.database.db;
    await db.execute(
      sql`update vector_stores set expires_at = now() - interval '1 minute', last_active_at = now() - interval '2 days' where id = ${id}`,
    );
    const swept = await until(async () => {
      const k = (await ts.admin.get(`${kbs(projectA)}/${id}`)).body;
      return k.status === 'expired' && k.usage_bytes === 0 ? k : null;
    }, 10_000);
    expect(swept.file_counts.total).toBe(1);
    expect((await documentOf(id, doc.body.id))?.chunk_count).toBe(0);
    const chunks = await ts.admin.get(`${kbs(projectA)}/${id}/documents/${doc.body.id}/chunks`);
    expect(chunks.body.data).toEqual([]);
    const search = await ts.admin.post(`${kbs(projectA)}/${id}/search`, { query: 'tea' });
    expect(search.status).toBe(400);
    expect(search.body.error.message).toContain('has expired');
    const late = await upload(ts.admin, projectA, id, 'late.txt', DOC);
    expect(late.status).toBe(400);
    // still listed as expired until deleted
    expect(
      (await ts.admin.get(kbs(projectA))).body.data.find((k: { id: string }) => k.id === id).status,
    ).toBe('expired');
    expect((await ts.admin.delete(`${kbs(projectA)}/${id}`)).status).toBe(204);
    expect((await ts.admin.get(`${kbs(projectA)}/${id}`)).status).toBe(404);
  }, 60_000);

  it('refuses bad input with clear 400s', async () => {
    const notMultipart = await ts.admin.post(`${kbs(projectA)}/${kb}/documents/upload`, { file: 'x' });
    expect(notMultipart.status).toBe(400);
    expect(notMultipart.body.error.message).toContain('multipart/form-data');
    const badQuery = await ts.admin.post(`${kbs(projectA)}/${kb}/search`, { query: '' });
    expect(badQuery.status).toBe(400);
    const badLimit = await ts.admin.get(`${kbs(projectA)}?limit=0`);
    expect(badLimit.status).toBe(400);
    const badStatus = await ts.admin.get(`${kbs(projectA)}/${kb}/documents?status=lost`);
    expect(badStatus.status).toBe(400);
    const badAttrs = await ts.admin.patch(`${kbs(projectA)}/${kb}/documents/${docId}`, {
      attributes: { nested: { no: 1 } },
    });
    expect(badAttrs.status).toBe(400);
    const unknownKb = await ts.admin.get(`${kbs(projectA)}/vs_nope`);
    expect(unknownKb.status).toBe(404);
    expect((await ts.admin.delete(`${kbs(projectA)}/${kb}`)).status).toBe(204);
  });
});
