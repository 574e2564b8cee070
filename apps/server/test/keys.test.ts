import { createHash } from 'node:crypto';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../src/modules/keys/schema.ts';

let ts: TestServer;
let projectId: string;
let otherProjectId: string;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** the stored row, straight from the database */
const storedKey = (id: string) =>
  ts.server.services.database.db.select().from(apiKeys).where(eq(apiKeys.id, id));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mint(body: Record<string, unknown> = {}, as: ApiClient = ts.admin) {
  const res = await as.post('/api/v1/keys', { name: 'k', project_id: projectId, ...body });
  if (res.status !== 201) throw new Error(`mint: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as string, secret: res.body.key as string, body: res.body };
}

/** status of an admin call made with this secret */
const adminStatus = async (secret: string) => (await ts.client(secret).get('/api/v1/keys?limit=1')).status;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(25);
  }
  return Date.now() - started;
}

beforeAll(async () => {
  ts = await startTestServer();
  projectId = (await ts.admin.post('/api/v1/projects', { name: 'keys-a' })).body.id;
  otherProjectId = (await ts.admin.post('/api/v1/projects', { name: 'keys-b' })).body.id;
});
afterAll(async () => {
  await ts?.close();
});

describe('issuing', () => {
  it('shows the secret once and stores only its SHA-256 hash and a display prefix', async () => {
    const res = await ts.admin.post('/api/v1/keys', {
      name: 'ci',
      project_id: projectId,
      models: ['gpt-x'],
      metadata: { team: 'ml' },
    });
    expect(res.status).toBe(201);
    const secret: string = res.body.key;
    expect(secret).toMatch(/^sk-maas-[A-Za-z0-9_-]{43,}$/);
    expect(res.body).toMatchObject({
      name: 'ci',
      project_id: projectId,
      scopes: ['inference'],
      models: ['gpt-x'],
      metadata: { team: 'ml' },
      status: 'active',
      expires_at: null,
      revoked_at: null,
    });
    expect(res.body.id).toMatch(/^key_/);
    expect(secret.startsWith(res.body.prefix)).toBe(true);
    expect(res.body.prefix.length).toBeLessThan(16);
    expect(res.body).not.toHaveProperty('hash');

    const got = await ts.admin.get(`/api/v1/keys/${res.body.id}`);
    const listed = await ts.admin.get('/api/v1/keys');
    for (const body of [got.body, listed.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(sha256(secret));
    }
    expect(got.body).not.toHaveProperty('key');
    expect(got.body.prefix).toBe(res.body.prefix);

    const rows = await storedKey(res.body.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.hash).toBe(sha256(secret));
    expect(JSON.stringify(rows[0])).not.toContain(secret);
  });

  it('verifies from the in-process cache without waiting on the database', async () => {
    const { id, secret } = await mint({ scopes: ['admin:read'] });
    const principal = ts.server.services.keys.verify(secret);
    expect(principal).not.toBeInstanceOf(Promise);
    expect(principal).toMatchObject({
      kind: 'key',
      keyId: id,
      projectId,
      scopes: ['admin:read'],
      models: null,
    });
    expect(await ts.server.services.keys.verify(`${secret}x`)).toBeNull();
    expect(ts.server.services.keys.verify('not-a-key')).toBeNull();
  });

  it('lists newest first with a cursor and filters by project', async () => {
    const a = await mint({ name: 'page-1', project_id: otherProjectId });
    const b = await mint({ name: 'page-2', project_id: otherProjectId });
    const first = await ts.admin.get(`/api/v1/keys?project_id=${otherProjectId}&limit=1`);
    expect(first.status).toBe(200);
    expect(first.body.data.map((k: { id: string }) => k.id)).toEqual([b.id]);
    expect(first.body.next_cursor).toBe(b.id);
    const second = await ts.admin.get(
      `/api/v1/keys?project_id=${otherProjectId}&limit=1&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.data.map((k: { id: string }) => k.id)).toEqual([a.id]);
    expect(second.body.next_cursor).toBeNull();
    const all = await ts.admin.get(`/api/v1/keys?project_id=${projectId}`);
    expect(all.body.data.every((k: { project_id: string }) => k.project_id === projectId)).toBe(true);
  });

  it('updates name, models, metadata and expiry, and audits every change without the secret', async () => {
    const { id, secret } = await mint({ name: 'before' });
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const res = await ts.admin.patch(`/api/v1/keys/${id}`, {
      name: 'after',
      models: null,
      metadata: { owner: 'me' },
      expires_at: expires,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'after',
      models: null,
      metadata: { owner: 'me' },
      expires_at: expires,
    });
    expect((await ts.admin.patch(`/api/v1/keys/${id}`, {})).body.name).toBe('after');
    await ts.admin.post(`/api/v1/keys/${id}/rotate`, { grace_period_seconds: 60 });
    await ts.admin.delete(`/api/v1/keys/${id}`);

    const events = (await ts.admin.get(`/api/v1/audit-events?target=${id}`)).body.data;
    expect(events.map((e: { action: string }) => e.action)).toEqual([
      'key.revoke',
      'key.rotate',
      'key.update',
      'key.create',
    ]);
    expect(events[2]).toMatchObject({
      before: { name: 'before' },
      after: { name: 'after' },
      actor_type: 'user',
    });
    const text = JSON.stringify(events);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(sha256(secret));
  });

  it('documents every key route in /openapi.json under the keys tag', async () => {
    const spec = (await ts.admin.get('/openapi.json')).body;
    for (const [path, method] of [
      ['/api/v1/keys', 'post'],
      ['/api/v1/keys', 'get'],
      ['/api/v1/keys/{id}', 'get'],
      ['/api/v1/keys/{id}', 'patch'],
      ['/api/v1/keys/{id}', 'delete'],
      ['/api/v1/keys/{id}/rotate', 'post'],
    ] as const) {
      expect(spec.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(['keys']);
    }
  });
});

describe('scopes', () => {
  it('refuses the admin API to an inference-only key', async () => {
    const { secret } = await mint();
    const res = await ts.client(secret).get('/api/v1/keys');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect((await ts.client(secret).get('/api/v1/projects')).status).toBe(403);
  });

  it('lets an admin:read key read but not write', async () => {
    const { secret } = await mint({ scopes: ['admin:read'] });
    const reader = ts.client(secret);
    expect((await reader.get('/api/v1/keys')).status).toBe(200);
    expect((await reader.get('/api/v1/projects')).status).toBe(200);
    expect((await reader.post('/api/v1/keys', { name: 'x', project_id: projectId })).status).toBe(403);
    expect((await reader.post('/api/v1/projects', { name: 'by-reader' })).status).toBe(403);
  });

  it('never lets a key mint or rotate a key broader than itself', async () => {
    const writer = ts.client((await mint({ scopes: ['admin:write'] })).secret);
    const narrower = await writer.post('/api/v1/keys', {
      name: 'n',
      project_id: projectId,
      scopes: ['admin:read'],
    });
    expect(narrower.status).toBe(201);
    expect(narrower.body.created_by).toMatch(/^key_/);
    const broader = await writer.post('/api/v1/keys', {
      name: 'b',
      project_id: projectId,
      scopes: ['admin:write', 'inference'],
    });
    expect(broader.status).toBe(403);
    const strong = await mint({ scopes: ['admin:write', 'inference'] });
    expect((await writer.post(`/api/v1/keys/${strong.id}/rotate`, {})).status).toBe(403);

    const limited = ts.client((await mint({ scopes: ['admin:write', 'inference'], models: ['m1'] })).secret);
    const inherits = await limited.post('/api/v1/keys', { name: 'i', project_id: projectId });
    expect(inherits.body.models).toEqual(['m1']);
    expect(
      (await limited.post('/api/v1/keys', { name: 'w', project_id: projectId, models: ['m2'] })).status,
    ).toBe(403);
  });
});

describe('rotation, revocation and expiry', () => {
  it('keeps the old secret working during the grace period, then only the new one', async () => {
    const { id, secret: old } = await mint({ scopes: ['admin:read'] });
    const res = await ts.admin.post(`/api/v1/keys/${id}/rotate`, { grace_period_seconds: 1 });
    expect(res.status).toBe(200);
    const fresh: string = res.body.key;
    expect(fresh).toMatch(/^sk-maas-/);
    expect(fresh).not.toBe(old);
    expect(res.body.id).toBe(id);
    expect(res.body.previous_expires_at).not.toBeNull();
    expect(await adminStatus(old)).toBe(200);
    expect(await adminStatus(fresh)).toBe(200);
    await until(async () => (await adminStatus(old)) === 401, 3_000);
    expect(await adminStatus(fresh)).toBe(200);
    const rows = await storedKey(id);
    expect(rows[0]!.hash).toBe(sha256(fresh));
  });

  it('ends the old secret at once without a grace period', async () => {
    const { id, secret: old } = await mint({ scopes: ['admin:read'] });
    const res = await ts.admin.post(`/api/v1/keys/${id}/rotate`);
    expect(res.status).toBe(200);
    expect(res.body.previous_expires_at).toBeNull();
    expect(await adminStatus(old)).toBe(401);
    expect(await adminStatus(res.body.key)).toBe(200);
  });

  it('refuses a revoked key with 401 at once', async () => {
    const { id, secret } = await mint({ scopes: ['admin:write'] });
    expect(await adminStatus(secret)).toBe(200);
    expect((await ts.admin.delete(`/api/v1/keys/${id}`)).status).toBe(204);
    const res = await ts.client(secret).get('/api/v1/keys');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_api_key');
    expect((await ts.admin.get(`/api/v1/keys/${id}`)).body).toMatchObject({ status: 'revoked' });
    expect((await ts.admin.delete(`/api/v1/keys/${id}`)).status).toBe(204);
    expect((await ts.admin.post(`/api/v1/keys/${id}/rotate`, {})).status).toBe(409);
    expect((await ts.admin.patch(`/api/v1/keys/${id}`, { name: 'again' })).status).toBe(409);
  });

  it('refuses an expired key, and an expiry in the past', async () => {
    const expires = new Date(Date.now() + 800).toISOString();
    const { id, secret } = await mint({ scopes: ['admin:read'], expires_at: expires });
    expect(await adminStatus(secret)).toBe(200);
    await until(async () => (await adminStatus(secret)) === 401, 3_000);
    expect((await ts.admin.get(`/api/v1/keys/${id}`)).body.status).toBe('expired');
    const past = await ts.admin.post('/api/v1/keys', {
      name: 'past',
      project_id: projectId,
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    expect(past.status).toBe(422);
  });
});

describe('bad input', () => {
  it('answers 400 with the field for invalid bodies and queries', async () => {
    const { id } = await mint();
    const cases: [string, string, unknown][] = [
      ['POST', '/api/v1/keys', { project_id: projectId }],
      ['POST', '/api/v1/keys', { name: 'x' }],
      ['POST', '/api/v1/keys', { name: 'x', project_id: projectId, scopes: ['root'] }],
      ['POST', '/api/v1/keys', { name: 'x', project_id: projectId, scopes: [] }],
      ['POST', '/api/v1/keys', { name: 'x', project_id: projectId, extra: 1 }],
      ['POST', '/api/v1/keys', { name: 'x', project_id: projectId, expires_at: 'tomorrow' }],
      ['POST', '/api/v1/keys', { name: 'x', project_id: projectId, metadata: 'nope' }],
      ['POST', '/api/v1/keys', { name: '', project_id: projectId }],
      ['PATCH', `/api/v1/keys/${id}`, { scopes: ['admin:write'] }],
      ['POST', `/api/v1/keys/${id}/rotate`, { grace_period_seconds: 8 * 86_400 }],
      ['POST', `/api/v1/keys/${id}/rotate`, { grace_period_seconds: -1 }],
      ['GET', '/api/v1/keys?limit=0', undefined],
      ['GET', '/api/v1/keys?limit=500', undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await ts.admin.request(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('answers 404 for unknown ids and projects, and for another org’s keys', async () => {
    for (const id of [
      'key_00000000000000000000000000',
      'nope',
      "'; drop table api_keys; --",
      '%00',
      'x'.repeat(150),
    ]) {
      const path = `/api/v1/keys/${encodeURIComponent(id)}`;
      expect((await ts.admin.get(path)).status, id).toBe(404);
      expect((await ts.admin.delete(path)).status, id).toBe(404);
    }
    expect((await ts.admin.post('/api/v1/keys', { name: 'x', project_id: 'prj_missing' })).status).toBe(404);

    const org = await ts.admin.post('/api/v1/orgs', { name: 'Keys Elsewhere' });
    const other = ts.client();
    await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const foreignProject = (await other.post('/api/v1/projects', { name: 'theirs' })).body.id;
    const foreign = await mint({ project_id: foreignProject }, other);
    expect((await ts.admin.post('/api/v1/keys', { name: 'x', project_id: foreignProject })).status).toBe(404);
    const path = `/api/v1/keys/${foreign.id}`;
    expect((await ts.admin.get(path)).status).toBe(404);
    expect((await ts.admin.patch(path, { name: 'mine' })).status).toBe(404);
    expect((await ts.admin.post(`${path}/rotate`, {})).status).toBe(404);
    expect((await ts.admin.delete(path)).status).toBe(404);
    const listed = JSON.stringify((await ts.admin.get('/api/v1/keys?limit=200')).body);
    expect(listed).not.toContain(foreign.id);
    expect((await other.get(path)).body.status).toBe('active');
  });
});
