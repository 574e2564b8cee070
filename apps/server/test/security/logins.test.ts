import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/modules/audit/schema.ts';

/**
 * Issue 13, item 8 (logins and sessions) and the refresh cookie of item 9, played against the real
 * server: brute force meets 429 and Retry-After (doubling), lockouts are audited, argon2 work is
 * bounded, weak passwords are refused, a password change needs the current one and ends the other
 * sessions, users list and end their own sessions, browsers get the refresh token only as an
 * HttpOnly SameSite cookie that a cross-site page cannot spend.
 */
let ts: TestServer;
/** trusts X-Forwarded-For/-Proto, so each test can sign in from its own client address */
let proxied: TestServer;

beforeAll(async () => {
  [ts, proxied] = await Promise.all([
    startTestServer({ MAAS_LOGIN_MAX_FAILURES: '3', MAAS_LOGIN_LOCKOUT_S: '1' }),
    startTestServer({
      MAAS_TRUST_PROXY: 'true',
      MAAS_LOGIN_MAX_FAILURES_PER_ADDRESS: '4',
      MAAS_PASSWORD_HASH_CONCURRENCY: '1',
      MAAS_PASSWORD_HASH_QUEUE: '2',
    }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([ts?.close(), proxied?.close()]);
});

async function createUser(server: TestServer, email: string, password: string) {
  const res = await server.admin.post('/api/v1/users', { email, password, role: 'operator' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

function login(server: TestServer, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return server.client().request('POST', '/api/v1/auth/login', body, headers);
}

function cookieOf(res: { headers: Headers }): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith('maas_refresh='));
  if (!line) throw new Error('no maas_refresh cookie set');
  return line;
}
const cookieValue = (line: string) => line.split(';')[0]!;

function refreshWithCookie(server: TestServer, cookie: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/api/v1/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-maas-csrf': '1', cookie, ...headers },
    body: '{}',
  });
}

describe('brute force', () => {
  it('locks an account after repeated failures: 429 with Retry-After, doubling, even for the right password', async () => {
    const email = 'target@example.com';
    await createUser(ts, email, 'target-password-long');
    for (let i = 0; i < 3; i++) {
      const res = await login(ts, { email, password: `guess-${i}` });
      expect(res.status).toBe(401);
    }
    const locked = await login(ts, { email, password: 'target-password-long' });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limit_exceeded');
    expect(locked.headers.get('retry-after')).toBe('1');

    await new Promise((r) => setTimeout(r, 1_200));
    for (let i = 0; i < 3; i++) expect((await login(ts, { email, password: `again-${i}` })).status).toBe(401);
    const again = await login(ts, { email, password: 'target-password-long' });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBe(2);

    const events = await ts.admin.get('/api/v1/audit-events?action=auth.lockout');
    expect(events.body.data.length).toBeGreaterThanOrEqual(2);
    expect(events.body.data[0].after).toMatchObject({ scope: 'account', email, retry_after_s: 2 });

    await new Promise((r) => setTimeout(r, 2_200));
    expect((await login(ts, { email, password: 'target-password-long' })).status).toBe(200);
  });

  it('locks an unknown email exactly like a known one (no oracle)', async () => {
    for (let i = 0; i < 3; i++)
      expect((await login(ts, { email: 'ghost@example.com', password: `guess-${i}` })).status).toBe(401);
    const res = await login(ts, { email: 'ghost@example.com', password: 'anything-at-all' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('locks a client address that sprays many accounts, and audits it on the platform chain', async () => {
    const from = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < 4; i++)
      expect((await login(proxied, { email: `spray-${i}@example.com`, password: 'x' }, from)).status).toBe(
        401,
      );
    const res = await login(proxied, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, from);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // another address is not affected
    const other = await login(
      proxied,
      { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      { 'x-forwarded-for': '203.0.113.8' },
    );
    expect(other.status).toBe(200);
    const db = proxied.server.services.database.db;
    const events = await db.select().from(auditEvents).where(eq(auditEvents.action, 'auth.lockout'));
    expect(events.map((e) => e.after)).toContainEqual(
      expect.objectContaining({ scope: 'address', ip: '203.0.113.7' }),
    );
  });
});

describe('argon2 work', () => {
  it('runs a bounded number of hashes at once and sheds the excess with 503 + Retry-After', async () => {
    const hasher = proxied.server.services.identity.hasher;
    let most = 0;
    const sample = setInterval(() => {
      most = Math.max(most, hasher.active);
    }, 1);
    const flood = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        login(
          proxied,
          { email: `flood-${i}@example.com`, password: `flood-${i}` },
          { 'x-forwarded-for': `198.51.100.${i}` },
        ),
      ),
    );
    clearInterval(sample);
    const statuses = flood.map((r) => r.status);
    expect(
      statuses.every((s) => s === 401 || s === 503 || s === 429),
      statuses.join(),
    ).toBe(true);
    const shed = flood.filter((r) => r.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    expect(shed[0]!.headers.get('retry-after')).toBe('1');
    expect(most).toBeLessThanOrEqual(1);
  });
});

describe('password policy', () => {
  it('refuses short, common and email-equal passwords for new users', async () => {
    for (const [email, password] of [
      ['weak1@example.com', 'short-pw'],
      ['weak2@example.com', 'password1234'],
      ['weak3@example.com', 'weak3@example.com'],
      ['weak4@example.com', 'aaaaaaaaaaaaaaaa'],
    ] as const) {
      const res = await ts.admin.post('/api/v1/users', { email, password, role: 'viewer' });
      expect(res.status, password).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});

describe('password change', () => {
  it('needs the current password and ends every other session of the user', async () => {
    const email = 'changer@example.com';
    const id = await createUser(ts, email, 'changer-password-1');
    const here = ts.client();
    await here.login(email, 'changer-password-1');
    const elsewhere = await login(ts, { email, password: 'changer-password-1', token_delivery: 'body' });
    const other = ts.client(elsewhere.body.access_token);
    expect((await other.get('/api/v1/me')).status).toBe(200);

    const without = await here.patch(`/api/v1/users/${id}`, { password: 'changer-password-2' });
    expect(without.status).toBe(400);
    expect(without.body.error.message).toContain('current_password');
    const wrong = await here.patch(`/api/v1/users/${id}`, {
      password: 'changer-password-2',
      current_password: 'not-my-password',
    });
    expect(wrong.status).toBe(401);
    const weak = await here.patch(`/api/v1/users/${id}`, {
      password: 'short',
      current_password: 'changer-password-1',
    });
    expect(weak.status).toBe(400);

    const ok = await here.patch(`/api/v1/users/${id}`, {
      password: 'changer-password-2',
      current_password: 'changer-password-1',
    });
    expect(ok.status).toBe(200);
    expect((await here.get('/api/v1/me')).status).toBe(200);
    expect((await other.get('/api/v1/me')).status).toBe(401);
    const refresh = await ts
      .client()
      .post('/api/v1/auth/refresh', { refresh_token: elsewhere.body.refresh_token });
    expect(refresh.status).toBe(401);
    expect((await login(ts, { email, password: 'changer-password-1' })).status).toBe(401);
    expect((await login(ts, { email, password: 'changer-password-2' })).status).toBe(200);
  });

  it('never lets an admin set another user’s password', async () => {
    const id = await createUser(ts, 'victim-pw@example.com', 'victim-password-1');
    const res = await ts.admin.patch(`/api/v1/users/${id}`, {
      password: 'attacker-chosen-1',
      current_password: ADMIN_PASSWORD,
    });
    expect(res.status).toBe(403);
  });
});

describe('sessions', () => {
  it('lists the user’s own sessions and ends one: its tokens stop working at once', async () => {
    const email = 'sessions@example.com';
    await createUser(ts, email, 'sessions-password-1');
    const a = await login(
      ts,
      { email, password: 'sessions-password-1', token_delivery: 'body' },
      { 'user-agent': 'laptop/1' },
    );
    const b = await login(
      ts,
      { email, password: 'sessions-password-1', token_delivery: 'body' },
      { 'user-agent': 'phone/2' },
    );
    const asA = ts.client(a.body.access_token);
    const asB = ts.client(b.body.access_token);
    const list = await asA.get('/api/v1/auth/sessions');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    const mine = list.body.data.find((s: { current: boolean }) => s.current);
    const theirs = list.body.data.find((s: { current: boolean }) => !s.current);
    expect(mine).toMatchObject({ user_agent: 'laptop/1', ip: '127.0.0.1' });
    expect(theirs).toMatchObject({ user_agent: 'phone/2' });
    expect(Date.parse(theirs.last_used_at)).toBeGreaterThan(0);
    expect(JSON.stringify(list.body)).not.toMatch(/rt_|token_hash/);

    // nobody else can see or end them
    const stranger = ts.admin;
    expect(
      (await stranger.get('/api/v1/auth/sessions')).body.data.map((s: { id: string }) => s.id),
    ).not.toContain(theirs.id);
    expect((await stranger.delete(`/api/v1/auth/sessions/${theirs.id}`)).status).toBe(404);

    expect((await asA.delete(`/api/v1/auth/sessions/${theirs.id}`)).status).toBe(204);
    expect((await asB.get('/api/v1/me')).status).toBe(401);
    expect(
      (await ts.client().post('/api/v1/auth/refresh', { refresh_token: b.body.refresh_token })).status,
    ).toBe(401);
    expect((await asA.get('/api/v1/auth/sessions')).body.data).toHaveLength(1);
    // a rotated session keeps its id
    const rotated = await ts.client().post('/api/v1/auth/refresh', { refresh_token: a.body.refresh_token });
    const again = await ts.client(rotated.body.access_token).get('/api/v1/auth/sessions');
    expect(again.body.data.map((s: { id: string }) => s.id)).toEqual([mine.id]);
  });
});

describe('refresh cookie', () => {
  it('gives browsers the refresh token only as an HttpOnly, SameSite=Strict cookie scoped to /api/v1/auth', async () => {
    const res = await login(ts, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    const cookie = cookieOf(res);
    expect(cookie).toMatch(/^maas_refresh=rt_/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\/api\/v1\/auth(;|$)/);
    expect(cookie).not.toMatch(/; Secure/i);

    const next = await refreshWithCookie(ts, cookieValue(cookie));
    expect(next.status).toBe(200);
    const body = (await next.json()) as { access_token: string; refresh_token?: string };
    expect(body.refresh_token).toBeUndefined();
    expect((await ts.client(body.access_token).get('/api/v1/me')).status).toBe(200);
    const rotated = cookieOf(next);
    expect(cookieValue(rotated)).not.toBe(cookieValue(cookie));
    // the old cookie was rotated away: using it again ends the family
    expect((await refreshWithCookie(ts, cookieValue(cookie))).status).toBe(401);
    expect((await refreshWithCookie(ts, cookieValue(rotated))).status).toBe(401);
  });

  it('refuses a cookie refresh a cross-site page could send (no CSRF header, or not JSON)', async () => {
    const cookie = cookieValue(cookieOf(await login(ts, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })));
    const noHeader = await fetch(`${ts.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: '{}',
    });
    expect(noHeader.status).toBe(403);
    const form = await fetch(`${ts.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-maas-csrf': '1', cookie },
      body: 'a=b',
    });
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(form.status).toBeLessThan(500);
    const plain = await fetch(`${ts.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-maas-csrf': '1', cookie },
      body: '{}',
    });
    expect(plain.status).toBeGreaterThanOrEqual(400);
    expect(plain.status).toBeLessThan(500);
    // the cookie still works for the real console
    expect((await refreshWithCookie(ts, cookie)).status).toBe(200);
  });

  it('marks the cookie Secure behind HTTPS, and logout clears it', async () => {
    const res = await login(
      proxied,
      { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      {
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '192.0.2.50',
      },
    );
    expect(res.status).toBe(200);
    expect(cookieOf(res)).toMatch(/; Secure/i);
    const out = await proxied.client(res.body.access_token).post('/api/v1/auth/logout');
    expect(out.status).toBe(204);
    expect(cookieOf(out)).toMatch(/^maas_refresh=;/);
    expect((await refreshWithCookie(proxied, cookieValue(cookieOf(res)))).status).toBe(401);
  });

  it('keeps the body path for the CLI: token_delivery "body" returns the token and sets no cookie', async () => {
    const res = await login(ts, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token_delivery: 'body' });
    expect(res.body.refresh_token).toMatch(/^rt_/);
    expect(res.headers.getSetCookie()).toEqual([]);
    const next = await ts.client().post('/api/v1/auth/refresh', { refresh_token: res.body.refresh_token });
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).toMatch(/^rt_/);
    // switching org keeps the session's delivery: no way to pull a cookie session's token into a body
    const cookieLogin = await login(ts, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    const orgs = await ts.admin.post('/api/v1/orgs', { name: 'Cookie Switch' });
    const switched = await ts
      .client(cookieLogin.body.access_token)
      .post('/api/v1/auth/switch-org', { org_id: orgs.body.id });
    expect(switched.status).toBe(200);
    expect(switched.body.refresh_token).toBeUndefined();
    expect(cookieOf(switched)).toMatch(/^maas_refresh=rt_/);
  });
});
