import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

describe('first start', () => {
  it('creates org default, project default and the owner', async () => {
    const me = await ts.admin.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      kind: 'user',
      role: 'owner',
      org: { slug: 'default' },
      user: { email: ADMIN_EMAIL, is_platform_admin: true },
    });
    const projects = await ts.admin.get('/api/v1/projects');
    expect(projects.body.data.map((p: { name: string }) => p.name)).toEqual(['default']);
  });

  it('audits the bootstrap and the login', async () => {
    const events = await ts.admin.get('/api/v1/audit-events?limit=200');
    const actions = events.body.data.map((e: { action: string }) => e.action);
    expect(actions).toContain('system.bootstrap');
    expect(actions).toContain('auth.login');
  });
});

describe('login, refresh and logout', () => {
  it('issues a short-lived JWT and a refresh token', async () => {
    const res = await ts
      .client()
      .post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token_delivery: 'body' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(res.body.access_token.split('.')).toHaveLength(3);
    expect(res.body.refresh_token).toMatch(/^rt_/);
  });

  it('accepts the email in any case', async () => {
    const res = await ts
      .client()
      .post('/api/v1/auth/login', { email: ADMIN_EMAIL.toUpperCase(), password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
  });

  it('refuses a wrong password with 401 and audits the failure', async () => {
    const res = await ts
      .client()
      .post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: 'wrong-password' });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_credentials' });
    const events = await ts.admin.get('/api/v1/audit-events?action=auth.login_failed');
    expect(events.body.data[0]).toMatchObject({
      action: 'auth.login_failed',
      after: { email: ADMIN_EMAIL, reason: 'bad_password' },
    });
    expect(JSON.stringify(events.body)).not.toContain('wrong-password');
  });

  it('refuses an unknown email the same way', async () => {
    const res = await ts
      .client()
      .post('/api/v1/auth/login', { email: 'nobody@example.com', password: 'whatever-pass' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_credentials');
  });

  it('rotates refresh tokens and ends the family when an old one is reused', async () => {
    const login = await ts
      .client()
      .post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token_delivery: 'body' });
    const first = login.body.refresh_token;
    const r1 = await ts.client().post('/api/v1/auth/refresh', { refresh_token: first });
    expect(r1.status).toBe(200);
    expect(r1.body.refresh_token).not.toBe(first);
    const second = r1.body.refresh_token;
    const reuse = await ts.client().post('/api/v1/auth/refresh', { refresh_token: first });
    expect(reuse.status).toBe(401);
    // the leaked family is over: the newest token stops working too
    const after = await ts.client().post('/api/v1/auth/refresh', { refresh_token: second });
    expect(after.status).toBe(401);
  });

  it('logout ends the session: its access and refresh tokens stop working', async () => {
    const login = await ts
      .client()
      .post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token_delivery: 'body' });
    const c = ts.client(login.body.access_token);
    expect((await c.get('/api/v1/me')).status).toBe(200);
    expect((await c.post('/api/v1/auth/logout')).status).toBe(204);
    const me = await c.get('/api/v1/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('invalid_token');
    expect(
      (await ts.client().post('/api/v1/auth/refresh', { refresh_token: login.body.refresh_token })).status,
    ).toBe(401);
  });

  it('refuses garbage tokens and missing credentials', async () => {
    expect((await ts.client('not-a-jwt').get('/api/v1/me')).status).toBe(401);
    const none = await ts.client().get('/api/v1/projects');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthenticated');
  });
});

describe('orgs, users and memberships', () => {
  it('lets a platform admin create an org with a default project, and switch into it', async () => {
    const created = await ts.admin.post('/api/v1/orgs', { name: 'Research Lab' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Research Lab', slug: 'research-lab' });
    const dup = await ts.admin.post('/api/v1/orgs', { name: 'Research Lab' });
    expect(dup.status).toBe(409);

    const inOrg = ts.client();
    const login = await inOrg.login(ADMIN_EMAIL, ADMIN_PASSWORD, created.body.id);
    expect(login.body.org_id).toBe(created.body.id);
    const projects = await inOrg.get('/api/v1/projects');
    expect(projects.body.data).toHaveLength(1);
    const switched = await ts.admin.post('/api/v1/auth/switch-org', { org_id: created.body.id });
    expect(switched.status).toBe(200);
    const asSwitched = ts.client(switched.body.access_token);
    expect((await asSwitched.get('/api/v1/me')).body.org.id).toBe(created.body.id);
    expect((await ts.admin.get('/api/v1/me')).body.org.slug).toBe('default');
    const outsider = await ts.admin.post('/api/v1/users', {
      email: 'outsider@example.com',
      password: 'outsider-pass',
      role: 'viewer',
    });
    expect(outsider.status).toBe(201);
    const o = ts.client();
    await o.login('outsider@example.com', 'outsider-pass');
    expect((await o.post('/api/v1/auth/switch-org', { org_id: created.body.id })).status).toBe(404);
    const mine = await ts.admin.get('/api/v1/orgs');
    expect(mine.body.data.map((o: { slug: string }) => o.slug).sort()).toEqual(['default', 'research-lab']);
  });

  it('creates a member who can log in with the given role, and keeps one owner', async () => {
    const created = await ts.admin.post('/api/v1/users', {
      email: 'Dev@Example.com',
      password: 'dev-password-1',
      role: 'operator',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'dev@example.com', role: 'operator', disabled: false });
    expect(JSON.stringify(created.body)).not.toMatch(/password|argon2/);

    const dev = ts.client();
    await dev.login('dev@example.com', 'dev-password-1');
    expect((await dev.get('/api/v1/me')).body.role).toBe('operator');

    const members = await ts.admin.get('/api/v1/memberships');
    const ownerMembership = members.body.data.find((m: { role: string }) => m.role === 'owner');
    const demote = await ts.admin.patch(`/api/v1/memberships/${ownerMembership.id}`, { role: 'admin' });
    expect(demote.status).toBe(422);
  });

  it('lets users change their own password but not other people’s', async () => {
    const u = await ts.admin.post('/api/v1/users', {
      email: 'pw@example.com',
      password: 'first-password',
      role: 'viewer',
    });
    const self = ts.client();
    await self.login('pw@example.com', 'first-password');
    expect(
      (
        await self.patch(`/api/v1/users/${u.body.id}`, {
          password: 'second-password',
          current_password: 'first-password',
        })
      ).status,
    ).toBe(200);
    await self.login('pw@example.com', 'second-password');
    const me = (await ts.admin.get('/api/v1/me')).body.user.id;
    expect((await self.patch(`/api/v1/users/${me}`, { password: 'hijacked-pass' })).status).toBe(403);
  });
});
