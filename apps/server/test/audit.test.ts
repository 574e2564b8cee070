import { startTestServer, type TestServer } from '@maas/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let ts: TestServer;
const exec = (query: ReturnType<typeof sql>) => ts.server.services.database.db.execute(query);

beforeAll(async () => {
  ts = await startTestServer();
  for (const name of ['alpha', 'beta', 'gamma']) await ts.admin.post('/api/v1/projects', { name });
});
afterAll(async () => {
  await ts?.close();
});

describe('audit trail', () => {
  it('records who did what, from where, with before and after', async () => {
    const created = await ts.admin.post('/api/v1/projects', { name: 'audited', description: 'v1' });
    await ts.admin.patch(`/api/v1/projects/${created.body.id}`, { description: 'v2' });
    const res = await ts.admin.request(
      'GET',
      `/api/v1/audit-events?target=${created.body.id}`,
      undefined,
      {},
    );
    expect(res.status).toBe(200);
    const [update, create] = res.body.data;
    expect(create).toMatchObject({
      action: 'project.create',
      actor_type: 'user',
      target_type: 'project',
      target_id: created.body.id,
    });
    expect(update).toMatchObject({
      action: 'project.update',
      before: { description: 'v1' },
      after: { description: 'v2' },
    });
    expect(update.ip).toBeTruthy();
    expect(update.request_id).toMatch(/^req_/);
    expect(update.prev_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(update.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('takes the caller’s x-request-id and filters by action and time', async () => {
    const created = await ts.admin.request(
      'POST',
      '/api/v1/projects',
      { name: 'traced' },
      { 'x-request-id': 'trace-123' },
    );
    expect(created.headers.get('x-request-id')).toBe('trace-123');
    const from = new Date(Date.now() - 60_000).toISOString();
    const res = await ts.admin.get(
      `/api/v1/audit-events?action=project.create&from=${encodeURIComponent(from)}`,
    );
    expect(res.body.data.every((e: { action: string }) => e.action === 'project.create')).toBe(true);
    expect(res.body.data.find((e: { request_id: string }) => e.request_id === 'trace-123')).toBeTruthy();
  });

  it('pages with a cursor', async () => {
    const first = await ts.admin.get('/api/v1/audit-events?limit=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toBeTruthy();
    const second = await ts.admin.get(`/api/v1/audit-events?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data[0].id < first.body.data[1].id).toBe(true);
  });

  it('verifies the chain', async () => {
    const res = await ts.admin.get('/api/v1/audit-events/verify');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.checked).toBeGreaterThan(5);
    expect(res.body.first_broken_id).toBeNull();
  });

  it('has no API to change or delete events, and the database refuses UPDATE and DELETE', async () => {
    const list = await ts.admin.get('/api/v1/audit-events?limit=1');
    const id = list.body.data[0].id;
    expect((await ts.admin.delete(`/api/v1/audit-events/${id}`)).status).toBe(404);
    expect((await ts.admin.patch(`/api/v1/audit-events/${id}`, {})).status).toBe(404);
    const refusal = (query: ReturnType<typeof sql>) =>
      exec(query).then(
        () => 'accepted',
        (err: Error & { cause?: Error }) => String(err.cause?.message ?? err.message),
      );
    expect(await refusal(sql`update audit_events set action = 'x' where id = ${id}`)).toMatch(/append-only/);
    expect(await refusal(sql`delete from audit_events where id = ${id}`)).toMatch(/append-only/);
  });

  it('names the first event that was edited behind its back', async () => {
    const list = await ts.admin.get('/api/v1/audit-events?action=project.create&limit=200');
    const victim = list.body.data.find((e: { after: { name: string } }) => e.after?.name === 'beta');
    await exec(sql`alter table audit_events disable trigger audit_events_no_update_delete`);
    await exec(sql`update audit_events set after = '{"name":"tampered"}'::jsonb where id = ${victim.id}`);
    await exec(sql`alter table audit_events enable trigger audit_events_no_update_delete`);
    const res = await ts.admin.get('/api/v1/audit-events/verify');
    expect(res.body).toMatchObject({ ok: false, first_broken_id: victim.id });
  });
});
