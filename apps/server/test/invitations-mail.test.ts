import { request as httpRequest } from 'node:http';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitations, mailSettings } from '../src/db/schema.ts';
import { linkOf, type SmtpSink, startSmtpSink } from './support/smtp-sink.ts';

/**
 * Invitations by mail end to end: a real SMTP server (smtp-server) receives what maas sends; the link
 * in the mail is followed as its reader would, on a console at the configured public URL.
 */
const PUBLIC_URL = 'https://console.example.test';
const SMTP = { user: 'maas-mailer', pass: 'smtp-password-not-to-leak' };
let ts: TestServer;
let sink: SmtpSink;
let orgSlug: string;
let orgId: string;
let viewer: ApiClient;
let other: ApiClient;
let otherOrgId: string;

const anon = () => ts.client();

async function invite(email: string, role = 'operator', as = ts.admin) {
  const res = await as.post('/api/v1/invitations', { email, role });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, ...linkOf(await sink.next(email)) };
}

beforeAll(async () => {
  sink = await startSmtpSink(SMTP);
  ts = await startTestServer();
  const me = (await ts.admin.get('/api/v1/me')).body;
  orgSlug = me.org.slug;
  orgId = me.org.id;
  const set = await ts.admin.request('PUT', '/api/v1/mail-settings', {
    host: '127.0.0.1',
    port: sink.port,
    security: 'none',
    username: SMTP.user,
    password: SMTP.pass,
    from_address: 'maas <noreply@example.test>',
    public_url: `${PUBLIC_URL}/`,
  });
  expect(set.status).toBe(200);
  await ts.admin.post('/api/v1/users', {
    email: 'viewer@mail.test',
    password: 'viewer-password-1',
    role: 'viewer',
  });
  viewer = ts.client();
  await viewer.login('viewer@mail.test', 'viewer-password-1');
  const org = await ts.admin.post('/api/v1/orgs', { name: 'Other tenant' });
  otherOrgId = org.body.id;
  other = ts.client();
  await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, otherOrgId);
});
afterAll(async () => {
  await ts?.close();
  await sink?.close();
});

describe('mail settings', () => {
  it('are set by a platform admin, seal the password and never return it', async () => {
    const got = await ts.admin.get('/api/v1/mail-settings');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ host: '127.0.0.1', has_password: true, public_url: PUBLIC_URL });
    expect(JSON.stringify(got.body)).not.toContain(SMTP.pass);
    const [row] = await ts.server.services.database.db.select().from(mailSettings);
    expect(row!.passwordSealed).toMatch(/^v1\./);
    expect(row!.passwordSealed).not.toContain(SMTP.pass);
    const audit = await ts.admin.get('/api/v1/audit-events?target=platform');
    expect(JSON.stringify(audit.body)).not.toContain(SMTP.pass);

    expect((await ts.admin.post('/api/v1/mail-settings/test', { to: 'ops@example.test' })).status).toBe(204);
    const mail = await sink.next('ops@example.test');
    expect(mail.auth).toBe(SMTP.user);
    expect(mail.text).toContain('test mail');
  });

  it('are refused to anyone but a platform admin, and bad settings get 400', async () => {
    expect((await viewer.get('/api/v1/mail-settings')).status).toBe(403);
    expect((await viewer.request('PUT', '/api/v1/mail-settings', {})).status).toBe(400);
    const body = {
      host: 'smtp.example.test',
      port: 25,
      security: 'none',
      from_address: 'x@y.z',
      public_url: 'https://a.test',
    };
    expect((await viewer.request('PUT', '/api/v1/mail-settings', body)).status).toBe(403);
    expect((await viewer.post('/api/v1/mail-settings/test', { to: 'a@b.test' })).status).toBe(403);
    const bad = await ts.admin.request('PUT', '/api/v1/mail-settings', {
      ...body,
      public_url: 'javascript:alert(1)',
    });
    expect(bad.status).toBe(400);
    expect((await ts.admin.request('PUT', '/api/v1/mail-settings', { ...body, port: 0 })).status).toBe(400);
  });

  it('dial the SMTP host through the outbound policy', async () => {
    const settings = (await ts.admin.get('/api/v1/mail-settings')).body;
    const put = (host: string) =>
      ts.admin.request('PUT', '/api/v1/mail-settings', {
        host,
        port: settings.port,
        security: 'none',
        username: SMTP.user,
        from_address: settings.from_address,
        public_url: settings.public_url,
      });
    expect((await put('169.254.169.254')).status).toBe(200);
    const refused = await ts.admin.post('/api/v1/mail-settings/test', { to: 'ops@example.test' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('metadata');
    expect((await put('127.0.0.1')).status).toBe(200);
    // the password was kept (absent in the PUT)
    expect((await ts.admin.get('/api/v1/mail-settings')).body.has_password).toBe(true);
  });
});

describe('an invitation by mail', () => {
  it('mails a link on the public URL (never the Host header), which creates the account and joins once', async () => {
    // a hostile caller names another host: the link must not follow it
    const res = await new Promise<{ status: number; body: { id: string } }>((resolve, reject) => {
      const body = JSON.stringify({ email: 'New.Person@Example.test', role: 'operator' });
      const req = httpRequest(`${ts.url}/api/v1/invitations`, {
        method: 'POST',
        headers: {
          host: 'evil.example',
          'x-forwarded-host': 'evil.example',
          'x-forwarded-proto': 'http',
          authorization: `Bearer ${ts.admin.token}`,
          'content-type': 'application/json',
        },
      });
      req.on('response', (r) => {
        let text = '';
        r.on('data', (c) => {
          text += c;
        });
        r.on('end', () => resolve({ status: r.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(res.status).toBe(201);
    const mail = await sink.next('new.person@example.test');
    expect(mail.text).not.toContain('evil.example');
    const { link, token } = linkOf(mail);
    expect(link.startsWith(`${PUBLIC_URL}/invite#token=`)).toBe(true);
    expect(mail.text).toContain('as operator');
    // hashed at rest
    const [row] = await ts.server.services.database.db
      .select()
      .from(invitations)
      .where(eq(invitations.id, res.body.id));
    expect(row!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.tokenHash).not.toContain(token);
    const listed = await ts.admin.get('/api/v1/invitations');
    expect(listed.body.data.find((i: { id: string }) => i.id === res.body.id)).toMatchObject({
      mail_status: 'sent',
    });

    const seen = await anon().post('/api/v1/auth/invitations/lookup', { token });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({
      org_id: orgId,
      email: 'new.person@example.test',
      role: 'operator',
      has_account: false,
    });
    const noPassword = await anon().post('/api/v1/auth/invitations/accept', { token });
    expect(noPassword.status).toBe(422);
    // the password policy applies (and the link still works after a refusal)
    expect((await anon().post('/api/v1/auth/invitations/accept', { token, password: 'short' })).status).toBe(
      400,
    );
    const accepted = await anon().post('/api/v1/auth/invitations/accept', {
      token,
      name: 'New Person',
      password: 'a-long-new-password-1',
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ account_created: true, invitation: { status: 'accepted' } });
    const person = ts.client();
    await person.login('new.person@example.test', 'a-long-new-password-1');
    expect((await person.get('/api/v1/me')).body).toMatchObject({ org: { id: orgId }, role: 'operator' });

    // single use
    const again = await anon().post('/api/v1/auth/invitations/accept', {
      token,
      password: 'a-long-new-password-2',
    });
    expect(again.status).toBe(404);
    expect((await anon().post('/api/v1/auth/invitations/decline', { token })).status).toBe(404);
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token })).status).toBe(404);
  });

  it('joins an existing account without touching its password', async () => {
    await other.post('/api/v1/users', {
      email: 'has-account@mail.test',
      password: 'existing-password-1',
      role: 'viewer',
    });
    const { token } = await invite('has-account@mail.test', 'viewer');
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token })).body.has_account).toBe(true);
    const accepted = await anon().post('/api/v1/auth/invitations/accept', {
      token,
      password: 'ignored-password-1',
    });
    expect(accepted.body.account_created).toBe(false);
    const c = ts.client();
    await c.login('has-account@mail.test', 'existing-password-1', orgId);
    expect((await c.get('/api/v1/me')).body.org.id).toBe(orgId);
  });

  it('is declined by its link, which then stops working', async () => {
    const { id, token } = await invite('decliner@mail.test');
    const declined = await anon().post('/api/v1/auth/invitations/decline', { token });
    expect(declined.status).toBe(200);
    expect(declined.body.status).toBe('declined');
    expect(
      (await anon().post('/api/v1/auth/invitations/accept', { token, password: 'a-long-password-99' }))
        .status,
    ).toBe(404);
    expect(
      (await ts.admin.get('/api/v1/invitations')).body.data.map((i: { id: string }) => i.id),
    ).not.toContain(id);
    const audit = await ts.admin.get(`/api/v1/audit-events?target=${id}`);
    expect(audit.body.data.map((e: { action: string }) => e.action)).toContain('invitation.decline');
  });

  it('refuses an expired link, and a link replaced by a resend or withdrawn', async () => {
    const expired = await invite('late@mail.test');
    await ts.server.services.database.db
      .update(invitations)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(invitations.id, expired.id));
    const late = await anon().post('/api/v1/auth/invitations/accept', {
      token: expired.token,
      password: 'a-long-password-12',
    });
    expect(late.status).toBe(404);
    expect(late.body.error.message).toContain('expired');

    const first = await invite('twice@mail.test');
    const resent = await ts.admin.post(`/api/v1/invitations/${first.id}/resend`, {});
    expect(resent.status).toBe(200);
    const second = linkOf(await sink.next('twice@mail.test'));
    expect(second.token).not.toBe(first.token);
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token: first.token })).status).toBe(404);
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token: second.token })).status).toBe(200);
    expect((await ts.admin.delete(`/api/v1/invitations/${first.id}`)).status).toBe(204);
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token: second.token })).status).toBe(404);
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token: 'x'.repeat(43) })).status).toBe(
      404,
    );
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token: '../../etc' })).status).toBe(400);
  });

  it('hostile tenants: another org sees, resends and revokes none of ours; a viewer invites nobody', async () => {
    const ours = await invite('guarded@mail.test');
    const theirList = await other.get('/api/v1/invitations');
    expect(theirList.body.data.map((i: { id: string }) => i.id)).not.toContain(ours.id);
    expect((await other.post(`/api/v1/invitations/${ours.id}/resend`, {})).status).toBe(404);
    expect((await other.delete(`/api/v1/invitations/${ours.id}`)).status).toBe(404);
    expect(
      (await viewer.post('/api/v1/invitations', { email: 'friend@mail.test', role: 'viewer' })).status,
    ).toBe(403);
    expect((await viewer.post(`/api/v1/invitations/${ours.id}/resend`, {})).status).toBe(403);
    expect((await viewer.delete(`/api/v1/invitations/${ours.id}`)).status).toBe(403);
    // an API key receives no invitations and has no profile
    expect(sink.mails.filter((m) => m.to.includes('friend@mail.test'))).toEqual([]);
    // still usable by its addressee
    expect((await anon().post('/api/v1/auth/invitations/lookup', { token: ours.token })).status).toBe(200);
  });
});

describe('self-registration', () => {
  it('is off by default, set by owners and admins only, and takes only listed domains', async () => {
    expect((await ts.admin.get('/api/v1/org-registration')).body).toEqual({ enabled: false, domains: [] });
    const closed = await anon().post('/api/v1/auth/register', { org: orgSlug, email: 'me@corp.test' });
    expect(closed.status).toBe(404);
    expect(
      (await viewer.request('PUT', '/api/v1/org-registration', { enabled: true, domains: ['corp.test'] }))
        .status,
    ).toBe(403);
    expect(
      (await ts.admin.request('PUT', '/api/v1/org-registration', { enabled: true, domains: [] })).status,
    ).toBe(422);
    expect(
      (
        await ts.admin.request('PUT', '/api/v1/org-registration', {
          enabled: true,
          domains: ['not a domain'],
        })
      ).status,
    ).toBe(400);
    const opened = await ts.admin.request('PUT', '/api/v1/org-registration', {
      enabled: true,
      domains: ['@Corp.test'],
    });
    expect(opened.body).toEqual({ enabled: true, domains: ['corp.test'] });
    // another org's settings are its own
    expect((await other.get('/api/v1/org-registration')).body.enabled).toBe(false);

    const refused = await anon().post('/api/v1/auth/register', { org: orgSlug, email: 'me@evil.test' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect(
      (await anon().post('/api/v1/auth/register', { org: 'no-such-org', email: 'me@corp.test' })).status,
    ).toBe(404);

    const signedUp = await anon().post('/api/v1/auth/register', { org: orgSlug, email: 'me@corp.test' });
    expect(signedUp.status).toBe(202);
    const mail = await sink.next('me@corp.test');
    expect(mail.text).toContain('Confirm your sign-up');
    const { token } = linkOf(mail);
    const accepted = await anon().post('/api/v1/auth/invitations/accept', {
      token,
      password: 'corp-password-123',
    });
    expect(accepted.body).toMatchObject({ account_created: true, invitation: { role: 'viewer' } });
    const c = ts.client();
    await c.login('me@corp.test', 'corp-password-123');
    expect((await c.get('/api/v1/me')).body).toMatchObject({ org: { id: orgId }, role: 'viewer' });
    // a member signing up again is told the same and mailed nothing
    expect((await anon().post('/api/v1/auth/register', { org: orgSlug, email: 'me@corp.test' })).status).toBe(
      202,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.mails.filter((m) => m.to.includes('me@corp.test'))).toHaveLength(1);
  });
});

describe('profile', () => {
  it('lists the caller’s own keys only', async () => {
    const me = ts.client();
    await me.login('new.person@example.test', 'a-long-new-password-1');
    const project = (await me.get('/api/v1/projects')).body.data[0].id;
    const mine = await me.post('/api/v1/keys', { name: 'personal', project_id: project });
    expect(mine.status).toBe(201);
    await ts.admin.post('/api/v1/keys', { name: 'admins', project_id: project });
    const listed = await me.get('/api/v1/me/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((k: { name: string }) => k.name)).toEqual(['personal']);
    expect(JSON.stringify(listed.body)).not.toContain(mine.body.key);
  });
});
