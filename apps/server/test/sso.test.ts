import { createHash, randomBytes } from 'node:crypto';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from './support/oidc-idp.ts';
import { createTestBrowser, type TestBrowser } from './support/test-browser.ts';

let ts: TestServer;
let idp: TestIdp;
let orgId: string;
let providerId: string;
const SLUG = 'corp-idp';

beforeAll(async () => {
  ts = await startTestServer();
  idp = await startTestIdp(ts.url);
  orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
  idp.accounts.set('alice', {
    email: 'alice@corp.example',
    email_verified: true,
    name: 'Alice',
    groups: ['ml-admins', 'staff'],
  });
  idp.accounts.set('bob', { email: 'Bob@Corp.example', email_verified: true, groups: ['ml-users'] });
  idp.accounts.set('carol', { email: 'carol@corp.example', email_verified: false, groups: ['ml-admins'] });
  idp.accounts.set('erin', { email: 'erin@corp.example', email_verified: true, groups: ['contractors'] });
  const created = await ts.admin.post('/api/v1/identity-providers', {
    slug: SLUG,
    name: 'Corp SSO',
    kind: 'keycloak',
    issuer: idp.issuer,
    client_id: idp.clientId,
    client_secret: idp.clientSecret,
    scopes: 'openid email profile groups',
    rules: [
      { claim: 'groups', value: 'ml-admins', org_id: orgId, role: 'admin' },
      { claim: 'groups', value: 'ml-users', org_id: orgId, role: 'viewer' },
    ],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  providerId = created.body.id;
}, 60_000);

afterAll(async () => {
  await idp?.close();
  await ts?.close();
});

const isLogin = (u: URL) => u.origin === ts.url && u.pathname === '/login';
const isCallback = (u: URL) => u.origin === ts.url && u.pathname === '/api/v1/auth/sso/callback';
const startUrl = (returnTo = '/usage') =>
  `${ts.url}/api/v1/auth/sso/${SLUG}/start?return_to=${encodeURIComponent(returnTo)}`;

/** The console's pick-up after the redirect: a refresh by the HttpOnly cookie. */
async function refreshByCookie(browser: TestBrowser) {
  const res = await browser.request(`${ts.url}/api/v1/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-maas-csrf': '1' },
    body: '{}',
  });
  return { status: res.status, body: (await res.json()) as { access_token: string } };
}

async function signIn(sub: string, returnTo = '/usage') {
  const browser = createTestBrowser();
  const landed = await browser.follow(startUrl(returnTo), { login: sub, password: 'any' }, isLogin);
  return { browser, landed };
}

describe('OIDC sign-in (authorization code + PKCE) against a real provider', () => {
  it('lists the provider for the login page, without its configuration', async () => {
    const res = await ts.client().get('/api/v1/auth/sso/providers');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ slug: SLUG, name: 'Corp SSO', kind: 'keycloak' }]);
  });

  it('signs a new user in, created just in time, admin by the group rule', async () => {
    const { browser, landed } = await signIn('alice');
    expect(landed.searchParams.get('sso')).toBe('done');
    expect(landed.searchParams.get('next')).toBe('/usage');
    const start = browser.hops[0]!;
    const auth = new URL(start.location!);
    expect(auth.origin).toBe(idp.issuer);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('redirect_uri')).toBe(`${ts.url}/api/v1/auth/sso/callback`);
    expect(auth.searchParams.get('state')).toBeTruthy();
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    expect(start.setCookies.find((c) => c.startsWith('maas_sso='))).toMatch(/HttpOnly/i);
    const tokens = await refreshByCookie(browser);
    expect(tokens.status).toBe(200);
    const me = await ts.client(tokens.body.access_token).get('/api/v1/me');
    expect(me.body).toMatchObject({
      kind: 'user',
      role: 'admin',
      org: { id: orgId },
      user: { email: 'alice@corp.example', name: 'Alice', is_platform_admin: false },
    });
    const events = await ts.admin.get('/api/v1/audit-events?action=auth.login&limit=5');
    expect(events.body.data[0]).toMatchObject({
      actor_id: me.body.user.id,
      after: { method: 'sso', provider: SLUG, user_created: true },
    });
  });

  it('maps another group to viewer and links the same account on the next sign-in', async () => {
    const first = await signIn('bob');
    const t1 = await refreshByCookie(first.browser);
    const me1 = await ts.client(t1.body.access_token).get('/api/v1/me');
    expect(me1.body).toMatchObject({ role: 'viewer', user: { email: 'bob@corp.example' } });
    const second = await signIn('bob');
    const t2 = await refreshByCookie(second.browser);
    const me2 = await ts.client(t2.body.access_token).get('/api/v1/me');
    expect(me2.body.user.id).toBe(me1.body.user.id);
  });

  it('refuses an email the provider does not vouch for, and a user no rule grants an org', async () => {
    const carol = await signIn('carol');
    expect(carol.landed.searchParams.get('sso_error')).toBe('email_not_verified');
    expect(carol.browser.cookie(new URL(ts.url).host, 'maas_refresh')).toBeUndefined();
    const erin = await signIn('erin');
    expect(erin.landed.searchParams.get('sso_error')).toBe('no_membership');
    const users = await ts.admin.get('/api/v1/users?limit=200');
    const emails = users.body.data.map((u: { email: string }) => u.email);
    expect(emails).not.toContain('erin@corp.example');
    expect(emails).not.toContain('carol@corp.example');
  });

  it('refuses a tampered state, a callback in another browser and a replayed one', async () => {
    const browser = createTestBrowser();
    const callback = await browser.follow(startUrl('/'), { login: 'alice', password: 'x' }, isCallback);
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    const bad = await browser.request(tampered.href);
    expect(bad.status).toBe(302);
    expect(bad.headers.get('location')).toBe('/login?sso_error=invalid_state');
    expect(bad.headers.getSetCookie().some((c) => c.startsWith('maas_refresh='))).toBe(false);

    const elsewhere = createTestBrowser();
    const stolen = await elsewhere.request(callback.href);
    expect(stolen.headers.get('location')).toBe('/login?sso_error=invalid_state');

    browser.setCookie(new URL(ts.url).host, 'maas_sso', 'forged-binding');
    const forged = await browser.request(callback.href);
    expect(forged.headers.get('location')).toBe('/login?sso_error=invalid_state');
  });

  it('uses a sign-in once', async () => {
    const browser = createTestBrowser();
    const callback = await browser.follow(startUrl('/'), { login: 'alice', password: 'x' }, isCallback);
    const binding = browser.cookie(new URL(ts.url).host, 'maas_sso')!;
    const ok = await browser.request(callback.href);
    expect(ok.headers.get('location')).toBe('/login?sso=done&next=%2F');
    browser.setCookie(new URL(ts.url).host, 'maas_sso', binding);
    const again = await browser.request(callback.href);
    expect(again.headers.get('location')).toBe('/login?sso_error=invalid_state');
  });

  it('refuses a return_to outside the console (no open redirect)', async () => {
    for (const target of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '/%0d%0aLocation:x',
      'evil.example',
    ]) {
      const res = await fetch(startUrl(target), { redirect: 'manual' });
      if (target === '/%0d%0aLocation:x') {
        // percent-encoded bytes stay a path: the answer still goes to the IdP, and back only here
        expect(res.status).toBe(302);
        continue;
      }
      expect(res.status, target).toBe(400);
      const body = await res.json();
      expect(body.error).toMatchObject({ code: 'validation_failed' });
      expect(res.headers.get('location')).toBeNull();
    }
    const unknown = await fetch(`${ts.url}/api/v1/auth/sso/nope/start`, { redirect: 'manual' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('not_found');
  });

  it('logs out at the provider too (RP-initiated end_session)', async () => {
    const { browser } = await signIn('alice');
    const tokens = await refreshByCookie(browser);
    const client = ts.client(tokens.body.access_token);
    const out = await client.post('/api/v1/auth/sso/logout', {});
    expect(out.status).toBe(200);
    const end = new URL(out.body.end_session_url);
    expect(end.origin).toBe(idp.issuer);
    expect(end.searchParams.get('id_token_hint')).toBeTruthy();
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${ts.url}/login`);
    const page = await browser.request(end.href);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form/);
    expect((await client.get('/api/v1/me')).status).toBe(401);
    expect((await refreshByCookie(browser)).status).toBe(401);
    const plain = await ts.client();
    await plain.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const noSso = await plain.post('/api/v1/auth/sso/logout', {});
    expect(noSso.body).toEqual({ end_session_url: null });
  });
});

describe('CLI sign-in (maas login --sso): loopback redirect and PKCE', () => {
  const verifier = 'v'.repeat(20) + randomBytes(24).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const loopback = 'http://127.0.0.1:45999/callback';
  const cliStart = (redirect = loopback, c = challenge) =>
    `${startUrl('/')}&cli_redirect=${encodeURIComponent(redirect)}&cli_challenge=${c}`;
  const codeOf = async () => {
    const browser = createTestBrowser();
    const landed = await browser.follow(cliStart(), { login: 'alice', password: 'x' }, (u) =>
      u.href.startsWith(loopback),
    );
    return landed.searchParams.get('code')!;
  };
  const exchange = (code: string, code_verifier: string) =>
    ts.client().post('/api/v1/auth/sso/token', { code, code_verifier });

  it('hands the loopback a one-time code that only the verifier turns into tokens', async () => {
    const code = await codeOf();
    expect(code).toBeTruthy();
    const wrong = await exchange(code, 'w'.repeat(43));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_token');
    const code2 = code;
    const ok = await exchange(code2, verifier);
    expect(ok.status).toBe(200);
    expect(ok.body.refresh_token).toMatch(/^rt_/);
    const me = await ts.client(ok.body.access_token).get('/api/v1/me');
    expect(me.body.user.email).toBe('alice@corp.example');
    expect((await exchange(code2, verifier)).status).toBe(401);
  });

  it('sends refusals to the loopback, and only ever redirects to a loopback address', async () => {
    const browser = createTestBrowser();
    const landed = await browser.follow(cliStart(), { login: 'carol', password: 'x' }, (u) =>
      u.href.startsWith(loopback),
    );
    expect(landed.searchParams.get('sso_error')).toBe('email_not_verified');
    for (const bad of ['https://evil.example/cb', 'http://10.0.0.1:8080/cb', 'http://127.0.0.1/cb']) {
      const res = await fetch(cliStart(bad), { redirect: 'manual' });
      expect(res.status, bad).toBe(400);
    }
    const noChallenge = await fetch(`${startUrl('/')}&cli_redirect=${encodeURIComponent(loopback)}`, {
      redirect: 'manual',
    });
    expect(noChallenge.status).toBe(400);
  });
});

describe('org-enforced SSO', () => {
  it('refuses password sign-in of the org’s members with a clear error; platform admins keep theirs', async () => {
    const dave = await ts.admin.post('/api/v1/users', {
      email: 'dave@corp.example',
      password: 'dave-password-123',
      role: 'operator',
    });
    expect(dave.status).toBe(201);
    const before = await ts.client().post('/api/v1/auth/login', {
      email: 'dave@corp.example',
      password: 'dave-password-123',
    });
    expect(before.status).toBe(200);
    const on = await ts.admin.patch(`/api/v1/orgs/${orgId}`, { sso_required: true });
    expect(on.status).toBe(200);
    expect(on.body.sso_required).toBe(true);
    const refused = await ts.client().post('/api/v1/auth/login', {
      email: 'dave@corp.example',
      password: 'dave-password-123',
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/requires single sign-on/);
    expect(refused.body.error.details).toMatchObject({
      reason: 'sso_required',
      providers: [{ slug: SLUG, name: 'Corp SSO' }],
    });
    const wrong = await ts.client().post('/api/v1/auth/login', {
      email: 'dave@corp.example',
      password: 'not-his-password',
    });
    expect(wrong.status).toBe(401);
    const admin = await ts.client().post('/api/v1/auth/login', {
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
    });
    expect(admin.status).toBe(200);
    const { browser } = await signIn('alice');
    expect((await refreshByCookie(browser)).status).toBe(200);
    expect((await ts.admin.patch(`/api/v1/orgs/${orgId}`, { sso_required: false })).status).toBe(200);
  });
});

describe('identity provider administration', () => {
  it('never returns or audits the client secret', async () => {
    const list = await ts.admin.get('/api/v1/identity-providers');
    expect(list.status).toBe(200);
    expect(list.body.data[0]).toMatchObject({ id: providerId, has_client_secret: true });
    const one = await ts.admin.get(`/api/v1/identity-providers/${providerId}`);
    const audit = await ts.admin.get('/api/v1/audit-events?limit=200');
    for (const body of [list.body, one.body, audit.body])
      expect(JSON.stringify(body)).not.toContain(idp.clientSecret);
    const patched = await ts.admin.patch(`/api/v1/identity-providers/${providerId}`, { name: 'Corp' });
    expect(patched.body).toMatchObject({ name: 'Corp', has_client_secret: true });
    expect(JSON.stringify(patched.body)).not.toContain(idp.clientSecret);
  });

  it('ignores a rule whose org was deleted since', async () => {
    const gone = await ts.admin.post('/api/v1/orgs', { name: 'Gone soon' });
    const rules = (await ts.admin.get(`/api/v1/identity-providers/${providerId}`)).body.rules;
    const withGone = [...rules, { claim: 'groups', value: 'staff', org_id: gone.body.id, role: 'viewer' }];
    expect(
      (await ts.admin.patch(`/api/v1/identity-providers/${providerId}`, { rules: withGone })).status,
    ).toBe(200);
    const owner = ts.client();
    await owner.login(ADMIN_EMAIL, ADMIN_PASSWORD, gone.body.id);
    expect((await owner.delete(`/api/v1/orgs/${gone.body.id}`)).status).toBe(204);
    const { browser, landed } = await signIn('alice');
    expect(landed.searchParams.get('sso')).toBe('done');
    expect((await refreshByCookie(browser)).status).toBe(200);
    await ts.admin.patch(`/api/v1/identity-providers/${providerId}`, { rules });
  });

  it('refuses tenant admins, API keys and bad input', async () => {
    const { browser } = await signIn('alice');
    const tenantAdmin = ts.client((await refreshByCookie(browser)).body.access_token);
    expect((await tenantAdmin.get('/api/v1/me')).body.role).toBe('admin');
    const body = { slug: 'evil', name: 'Evil', issuer: idp.issuer, client_id: 'x' };
    for (const res of [
      await tenantAdmin.get('/api/v1/identity-providers'),
      await tenantAdmin.post('/api/v1/identity-providers', body),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    // one by id is a platform resource: to a tenant it does not exist (like nodes)
    for (const res of [
      await tenantAdmin.get(`/api/v1/identity-providers/${providerId}`),
      await tenantAdmin.patch(`/api/v1/identity-providers/${providerId}`, { rules: [] }),
      await tenantAdmin.delete(`/api/v1/identity-providers/${providerId}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await ts.admin.get(`/api/v1/identity-providers/${providerId}`)).body.rules).toHaveLength(2);
    const project = (await ts.admin.get('/api/v1/projects')).body.data[0].id;
    const key = await ts.admin.post('/api/v1/keys', {
      name: 'admin-key',
      project_id: project,
      scopes: ['admin:write'],
    });
    const byKey = await ts.client(key.body.secret ?? key.body.key).get('/api/v1/identity-providers');
    expect(byKey.status).toBe(403);

    const bad = [
      { ...body, issuer: 'ftp://idp.example' },
      { ...body, issuer: 'https://user:pw@idp.example' },
      { ...body, slug: 'Not A Slug' },
      { ...body, scopes: 'email profile' },
      { ...body, rules: [{ claim: 'groups', value: 'x', org_id: orgId, role: 'god' }] },
      { ...body, extra: true },
    ];
    for (const b of bad) {
      const res = await ts.admin.post('/api/v1/identity-providers', b);
      expect(res.status, JSON.stringify(b)).toBe(400);
    }
    const missingOrg = await ts.admin.post('/api/v1/identity-providers', {
      ...body,
      rules: [{ claim: 'groups', value: 'x', org_id: 'org_nope', role: 'viewer' }],
    });
    expect(missingOrg.status).toBe(422);
    const dup = await ts.admin.post('/api/v1/identity-providers', { ...body, slug: SLUG });
    expect(dup.status).toBe(409);
    expect((await ts.admin.get('/api/v1/identity-providers/idp_nope')).status).toBe(404);
  });

  it('reaches an issuer on a private or metadata address only through the outbound policy', async () => {
    for (const issuer of ['http://10.255.255.1/realms/x', 'http://169.254.169.254/']) {
      const res = await ts.admin.post('/api/v1/identity-providers', {
        slug: 'internal',
        name: 'Internal',
        issuer,
        client_id: 'x',
      });
      expect(res.status, issuer).toBe(422);
      expect(res.body.error.message).toMatch(/discovery/);
    }
  });
});
