import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13, item 8 (membership): an org admin who is not a platform admin cannot pull another org's
 * user into their org, read or rename them, or learn whether an email has an account anywhere on
 * the platform. Adding someone is an invitation; the invitee accepts or declines.
 */
let ts: TestServer;
let evil: ApiClient;
let victimId: string;
const victim = { email: 'victim@corp-a.test', password: 'victim-password-long' };

beforeAll(async () => {
  ts = await startTestServer();
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Hostile B' });
  const inB = ts.client();
  await inB.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
  const admin = await inB.post('/api/v1/users', {
    email: 'evil-admin@hostile-b.test',
    password: 'evil-admin-password',
    role: 'admin',
  });
  expect(admin.status).toBe(201);
  evil = ts.client();
  await evil.login('evil-admin@hostile-b.test', 'evil-admin-password');
  const v = await ts.admin.post('/api/v1/users', { ...victim, name: 'Victim Person', role: 'viewer' });
  expect(v.status).toBe(201);
  victimId = v.body.id;
}, 60_000);
afterAll(async () => {
  await ts?.close();
});

const shape = (body: Record<string, unknown>) => ({
  keys: Object.keys(body).sort(),
  status: body.status,
  role: body.role,
});

describe('no platform-wide email oracle', () => {
  it('answers creating a user the same whether or not the email has an account', async () => {
    const existing = await evil.post('/api/v1/users', {
      email: victim.email,
      password: 'evil-chosen-password',
      role: 'viewer',
    });
    const fresh = await evil.post('/api/v1/users', {
      email: 'nobody-yet@hostile-b.test',
      password: 'fresh-user-password',
      role: 'viewer',
    });
    expect(existing.status).toBe(201);
    expect(fresh.status).toBe(201);
    expect(shape(existing.body)).toEqual(shape(fresh.body));
    expect(existing.body.status).toBe('pending');
    expect(JSON.stringify(existing.body)).not.toContain(victimId);
    expect(JSON.stringify(existing.body)).not.toContain('Victim Person');
    // the victim keeps their own password; the one the attacker chose opens nothing
    expect(
      (
        await ts
          .client()
          .post('/api/v1/auth/login', { email: victim.email, password: 'evil-chosen-password' })
      ).status,
    ).toBe(401);
    expect((await ts.client().post('/api/v1/auth/login', victim)).status).toBe(200);
  });

  it('answers inviting the same whether or not the email has an account', async () => {
    for (const path of ['/api/v1/invitations', '/api/v1/memberships']) {
      const existing = await evil.post(path, { email: victim.email, role: 'viewer' });
      const unknown = await evil.post(path, { email: `ghost-${path.length}@nowhere.test`, role: 'viewer' });
      expect(existing.status, path).toBe(201);
      expect(unknown.status, path).toBe(201);
      expect(shape(existing.body)).toEqual(shape(unknown.body));
    }
  });
});

describe('invitations', () => {
  it('does not add another org’s user until they accept; until then the inviter cannot read or rename them', async () => {
    const users = await evil.get('/api/v1/users');
    expect(JSON.stringify(users.body)).not.toContain(victim.email);
    expect((await evil.get(`/api/v1/users/${victimId}`)).status).toBe(404);
    expect((await evil.patch(`/api/v1/users/${victimId}`, { name: 'renamed by B' })).status).toBe(404);
    const pending = await evil.get('/api/v1/invitations');
    expect(pending.body.data.map((i: { email: string }) => i.email)).toContain(victim.email);

    const v = ts.client();
    await v.login(victim.email, victim.password);
    const mine = await v.get('/api/v1/me/invitations');
    expect(mine.status).toBe(200);
    const offer = mine.body.data.find((i: { org_name: string }) => i.org_name === 'Hostile B');
    expect(offer).toMatchObject({ email: victim.email, status: 'pending', role: 'viewer' });
    // nobody else can answer it
    expect((await evil.post(`/api/v1/me/invitations/${offer.id}/accept`)).status).toBe(404);

    const accepted = await v.post(`/api/v1/me/invitations/${offer.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('accepted');
    const me = await v.get('/api/v1/me');
    expect(me.body.memberships.map((m: { org_name: string }) => m.org_name)).toContain('Hostile B');
    expect((await v.post(`/api/v1/me/invitations/${offer.id}/accept`)).status).toBe(404);

    // now a member of B: B's admin sees them, but still cannot rename them (only they can)
    expect((await evil.get(`/api/v1/users/${victimId}`)).status).toBe(200);
    const rename = await evil.patch(`/api/v1/users/${victimId}`, { name: 'renamed by B' });
    expect(rename.status).toBe(403);
    const self = await v.patch(`/api/v1/users/${victimId}`, { name: 'Victim Renamed' });
    expect(self.status).toBe(200);
    expect(self.body.name).toBe('Victim Renamed');
  });

  it('lets the invitee decline: no membership', async () => {
    const email = 'decliner@corp-a.test';
    await ts.admin.post('/api/v1/users', { email, password: 'decliner-password', role: 'viewer' });
    await evil.post('/api/v1/invitations', { email, role: 'operator' });
    const d = ts.client();
    await d.login(email, 'decliner-password');
    const [offer] = (await d.get('/api/v1/me/invitations')).body.data;
    expect((await d.post(`/api/v1/me/invitations/${offer.id}/decline`)).body.status).toBe('declined');
    expect((await d.get('/api/v1/me')).body.memberships).toHaveLength(1);
    expect((await evil.get('/api/v1/users')).body.data.map((u: { email: string }) => u.email)).not.toContain(
      email,
    );
    expect(
      (await evil.get('/api/v1/invitations')).body.data.map((i: { email: string }) => i.email),
    ).not.toContain(email);
  });

  it('lets the inviter withdraw an invitation', async () => {
    const inv = await evil.post('/api/v1/invitations', { email: 'withdrawn@corp-a.test', role: 'viewer' });
    expect((await evil.delete(`/api/v1/invitations/${inv.body.id}`)).status).toBe(204);
    expect((await evil.get('/api/v1/invitations')).body.data.map((i: { id: string }) => i.id)).not.toContain(
      inv.body.id,
    );
  });

  it('lets an account the org created join at its first sign-in', async () => {
    const email = 'newbie@hostile-b.test';
    const created = await evil.post('/api/v1/users', {
      email,
      password: 'newbie-password-1',
      role: 'operator',
    });
    expect(created.body.status).toBe('pending');
    const n = ts.client();
    const login = await n.login(email, 'newbie-password-1');
    expect(login.status).toBe(200);
    const me = await n.get('/api/v1/me');
    expect(me.body).toMatchObject({ role: 'operator', org: { name: 'Hostile B' } });
    expect((await evil.get('/api/v1/users')).body.data.map((u: { email: string }) => u.email)).toContain(
      email,
    );
  });

  it('refuses an owner invitation from a non-owner', async () => {
    const res = await evil.post('/api/v1/invitations', { email: 'boss@corp-a.test', role: 'owner' });
    expect(res.status).toBe(403);
  });
});
