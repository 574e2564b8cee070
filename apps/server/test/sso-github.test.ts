import { startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubFake } from './support/github-fake.ts';
import { createTestBrowser } from './support/test-browser.ts';

/** GitHub over OAuth 2.0 (no OpenID Connect): an Enterprise Server's protocol on loopback. */
let ts: TestServer;
let github: Awaited<ReturnType<typeof startGithubFake>>;
let orgId: string;
const SLUG = 'github';

beforeAll(async () => {
  ts = await startTestServer();
  github = await startGithubFake('gh-client', 'gh-secret');
  orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
  github.accounts.set('octo', {
    id: 583231,
    login: 'octo',
    name: 'Octo Cat',
    emails: [
      { email: 'old@users.example', primary: false, verified: false },
      { email: 'octo@corp.example', primary: true, verified: true },
    ],
    orgs: ['corp-ml', 'oss'],
  });
  github.accounts.set('nomail', {
    id: 9,
    login: 'nomail',
    name: null,
    emails: [{ email: 'nomail@corp.example', primary: true, verified: false }],
    orgs: ['corp-ml'],
  });
}, 120_000);

afterAll(async () => {
  await github?.close();
  await ts?.close();
});

const isLogin = (u: URL) => u.origin === ts.url && u.pathname === '/login';

describe('GitHub sign-in (OAuth 2.0 with PKCE, no OpenID Connect)', () => {
  it('is configured without discovery, with GitHub scopes by default; OIDC kinds still need openid', async () => {
    const created = await ts.admin.post('/api/v1/identity-providers', {
      slug: SLUG,
      name: 'GitHub',
      kind: 'github',
      issuer: github.base,
      client_id: 'gh-client',
      client_secret: 'gh-secret',
      rules: [{ claim: 'groups', value: 'corp-ml', org_id: orgId, role: 'operator' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.scopes).toBe('read:user user:email read:org');
    expect(JSON.stringify(created.body)).not.toContain('gh-secret');
    const oidcWithout = await ts.admin.post('/api/v1/identity-providers', {
      slug: 'plain',
      name: 'Plain',
      kind: 'oidc',
      issuer: github.base,
      client_id: 'x',
      scopes: 'email profile',
    });
    expect(oidcWithout.status).toBe(400);
    expect(JSON.stringify(oidcWithout.body.error)).toContain('openid');
    expect((await ts.client().get('/api/v1/auth/sso/providers')).body.data).toContainEqual({
      slug: SLUG,
      name: 'GitHub',
      kind: 'github',
    });
  });

  it('signs a GitHub user in just in time, by the verified primary email, with orgs as groups', async () => {
    github.signIn('octo');
    const browser = createTestBrowser();
    const landed = await browser.follow(
      `${ts.url}/api/v1/auth/sso/${SLUG}/start?return_to=%2Fusage`,
      {},
      isLogin,
    );
    expect(landed.searchParams.get('sso')).toBe('done');
    const authorize = new URL(browser.hops.find((h) => h.url.includes('/login/oauth/authorize'))!.url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('scope')).toBe('read:user user:email read:org');
    const res = await browser.request(`${ts.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-maas-csrf': '1' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    const me = (await ts.client(access_token).get('/api/v1/me')).body;
    expect(me.user.email).toBe('octo@corp.example');
    expect(me.role).toBe('operator');
    expect(github.requests).toEqual(
      expect.arrayContaining([
        'POST /login/oauth/access_token',
        'GET /api/v3/user',
        'GET /api/v3/user/emails',
      ]),
    );
    const audit = await ts.admin.get('/api/v1/audit-events?action=auth.login&limit=5');
    expect(JSON.stringify(audit.body.data)).toContain('"provider":"github"');
  });

  it('refuses an account whose email GitHub has not verified, and a forged callback', async () => {
    github.signIn('nomail');
    const landed = await createTestBrowser().follow(`${ts.url}/api/v1/auth/sso/${SLUG}/start`, {}, isLogin);
    expect(landed.searchParams.get('sso_error')).toBe('email_not_verified');

    const forged = await createTestBrowser().follow(
      `${ts.url}/api/v1/auth/sso/callback?state=forged&code=stolen`,
      {},
      isLogin,
    );
    expect(forged.searchParams.get('sso_error')).toBe('invalid_state');
  });
});
