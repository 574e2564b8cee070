import { randomBytes } from 'node:crypto';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createApiClient, type SpawnedServer, spawnServer } from '@maas/testkit';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from './support/oidc-idp.ts';
import { createTestBrowser } from './support/test-browser.ts';

/**
 * A real `maas serve` at debug level: SSO sign-ins and two-step verification leave no client secret,
 * TOTP secret, recovery code, sign-in token or refresh token in any log line (issue 20).
 */
let server: SpawnedServer;
let idp: TestIdp;

beforeAll(async () => {
  server = await spawnServer({
    NODE_ENV: 'test',
    MAAS_HOST: '127.0.0.1',
    MAAS_PORT: '0',
    MAAS_DATA_DIR: 'memory://',
    MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
    MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
    MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MAAS_LOG_LEVEL: 'debug',
    MAAS_OUTBOUND_ALLOW: '127.0.0.0/8',
    DATABASE_URL: '',
    REDIS_URL: '',
  });
  idp = await startTestIdp(server.url);
  idp.accounts.set('alice', { email: 'alice@corp.example', email_verified: true, groups: ['ml'] });
}, 90_000);
afterAll(async () => {
  await idp?.close();
  await server?.stop();
});

describe('identity secrets and logs', () => {
  it('never writes a client secret, TOTP secret, code or token to the log', async () => {
    const admin = createApiClient(server.url);
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const orgId = (await admin.get('/api/v1/me')).body.org.id;
    const created = await admin.post('/api/v1/identity-providers', {
      slug: 'corp',
      name: 'Corp',
      issuer: idp.issuer,
      client_id: idp.clientId,
      client_secret: idp.clientSecret,
      scopes: 'openid email profile groups',
      rules: [{ claim: 'groups', value: 'ml', org_id: orgId, role: 'viewer' }],
    });
    expect(created.status).toBe(201);

    const browser = createTestBrowser();
    const landed = await browser.follow(
      `${server.url}/api/v1/auth/sso/corp/start`,
      { login: 'alice', password: 'x' },
      (u) => u.origin === server.url && u.pathname === '/login',
    );
    expect(landed.searchParams.get('sso')).toBe('done');
    const callback = browser.hops.find((h) => h.url.includes('/api/v1/auth/sso/callback'))!;
    const ssoCode = new URL(callback.url).searchParams.get('code')!;
    const refreshCookie = browser.cookie(new URL(server.url).host, 'maas_refresh')!;
    expect(refreshCookie).toMatch(/^rt_/);

    const start = await admin.post('/api/v1/me/mfa/totp', {});
    const secret: string = start.body.secret;
    const now = Math.floor(Date.now() / 1000);
    const confirmed = await admin.post('/api/v1/me/mfa/totp/confirm', {
      code: await generate({ secret, epoch: now }),
    });
    const recovery: string[] = confirmed.body.recovery_codes;
    const login = await createApiClient(server.url).post('/api/v1/auth/login', {
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
      token_delivery: 'body',
    });
    const mfaToken: string = login.body.mfa_token;
    const verified = await createApiClient(server.url).post('/api/v1/auth/mfa/verify', {
      mfa_token: mfaToken,
      code: recovery[0],
    });
    expect(verified.status).toBe(200);

    const log = server.output.join('\n');
    expect(log).toContain('/api/v1/auth/sso/corp/start');
    expect(log).not.toContain('/api/v1/auth/sso/callback?');
    for (const value of [
      idp.clientSecret,
      secret,
      ...recovery.map((c) => c.replace('-', '')),
      ...recovery,
      mfaToken,
      ssoCode,
      refreshCookie,
      verified.body.refresh_token,
      verified.body.access_token,
    ]) {
      expect(log).not.toContain(value);
    }
  });
});
