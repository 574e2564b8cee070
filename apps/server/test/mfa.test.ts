import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let ts: TestServer;
let orgId: string;

beforeAll(async () => {
  ts = await startTestServer();
  orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
});
afterAll(async () => {
  await ts?.close();
});

/** A code of the step `ahead` steps from now (each step is accepted once, in order). */
const codeAt = (secret: string, ahead = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + ahead * 30 });

async function makeUser(email: string, role: string) {
  const password = `${email}-password`;
  const res = await ts.admin.post('/api/v1/users', { email, password, role });
  expect(res.status).toBe(201);
  return password;
}

const login = (email: string, password: string) =>
  ts.client().post('/api/v1/auth/login', { email, password, token_delivery: 'body' });

async function signedIn(email: string, password: string): Promise<ApiClient> {
  const client = ts.client();
  await client.login(email, password);
  return client;
}

/** Enrols TOTP for a signed-in user; returns the secret and the recovery codes. */
async function enrol(client: ApiClient) {
  const start = await client.post('/api/v1/me/mfa/totp', {});
  expect(start.status).toBe(200);
  const { secret } = start.body;
  const done = await client.post('/api/v1/me/mfa/totp/confirm', { code: await codeAt(secret) });
  expect(done.status).toBe(200);
  return {
    secret: secret as string,
    recovery: done.body.recovery_codes as string[],
    uri: start.body.otpauth_uri,
  };
}

describe('TOTP enrolment and the second sign-in step', () => {
  it('enrols with a first code, then asks every password sign-in for a code', async () => {
    const password = await makeUser('ann@example.com', 'operator');
    const ann = await signedIn('ann@example.com', password);
    expect((await ann.get('/api/v1/me/mfa')).body).toEqual({
      enabled: false,
      totp: false,
      passkeys: 0,
      enrolment_pending: false,
      recovery_codes_left: 0,
      required: false,
    });
    const start = await ann.post('/api/v1/me/mfa/totp', {});
    expect(start.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/maas:ann%40example\.com\?secret=/);
    expect((await ann.get('/api/v1/me/mfa')).body.enrolment_pending).toBe(true);
    const wrong = await ann.post('/api/v1/me/mfa/totp/confirm', { code: '000000' });
    expect(wrong.status).toBe(401);
    const ok = await ann.post('/api/v1/me/mfa/totp/confirm', { code: await codeAt(start.body.secret) });
    expect(ok.status).toBe(200);
    expect(ok.body.recovery_codes).toHaveLength(10);
    expect((await ann.get('/api/v1/me/mfa')).body).toMatchObject({ enabled: true, recovery_codes_left: 10 });
    expect((await ann.post('/api/v1/me/mfa/totp', {})).status).toBe(409);

    const first = await login('ann@example.com', password);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ mfa_required: 'verify', org_id: orgId });
    expect(first.body.access_token).toBeUndefined();
    expect((await ts.client(first.body.mfa_token).get('/api/v1/me')).status).toBe(401);

    const bad = await ts.client().post('/api/v1/auth/mfa/verify', {
      mfa_token: first.body.mfa_token,
      code: '123456',
    });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('invalid_credentials');
    // the enrolment's code was used: the same step is refused, the next one accepted
    const replay = await ts.client().post('/api/v1/auth/mfa/verify', {
      mfa_token: first.body.mfa_token,
      code: await codeAt(start.body.secret),
    });
    expect(replay.status).toBe(401);
    const good = await ts.client().post('/api/v1/auth/mfa/verify', {
      mfa_token: first.body.mfa_token,
      code: await codeAt(start.body.secret, 1),
    });
    expect(good.status).toBe(200);
    expect(good.body.access_token).toBeTruthy();
    expect(good.body.refresh_token).toMatch(/^rt_/);
    const again = await ts.client().post('/api/v1/auth/mfa/verify', {
      mfa_token: first.body.mfa_token,
      code: await codeAt(start.body.secret, 1),
    });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('invalid_token');

    const audit = JSON.stringify((await ts.admin.get('/api/v1/audit-events?limit=200')).body);
    expect(audit).toContain('user.mfa_enable');
    expect(audit).not.toContain(start.body.secret);
    for (const c of ok.body.recovery_codes) expect(audit).not.toContain(c);
  });

  it('accepts each recovery code once', async () => {
    const password = await makeUser('ben@example.com', 'viewer');
    const { recovery } = await enrol(await signedIn('ben@example.com', password));
    const c1 = await login('ben@example.com', password);
    const used = await ts
      .client()
      .post('/api/v1/auth/mfa/verify', { mfa_token: c1.body.mfa_token, code: recovery[0]!.toUpperCase() });
    expect(used.status).toBe(200);
    const c2 = await login('ben@example.com', password);
    const reused = await ts
      .client()
      .post('/api/v1/auth/mfa/verify', { mfa_token: c2.body.mfa_token, code: recovery[0] });
    expect(reused.status).toBe(401);
    const ben = ts.client(used.body.access_token);
    expect((await ben.get('/api/v1/me/mfa')).body.recovery_codes_left).toBe(9);
  });

  it('throttles wrong codes like wrong passwords', async () => {
    const password = await makeUser('cid@example.com', 'viewer');
    const { secret } = await enrol(await signedIn('cid@example.com', password));
    const challenge = await login('cid@example.com', password);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await ts
        .client()
        .post('/api/v1/auth/mfa/verify', { mfa_token: challenge.body.mfa_token, code: '000000' });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
    const right = await ts.client().post('/api/v1/auth/mfa/verify', {
      mfa_token: challenge.body.mfa_token,
      code: await codeAt(secret, 1),
    });
    expect(right.status).toBe(429);
    expect(right.headers.get('retry-after')).toBeTruthy();
  });
});

describe('turning MFA off', () => {
  it('needs the user’s own code; another user cannot turn it off', async () => {
    const pw1 = await makeUser('dee@example.com', 'viewer');
    const pw2 = await makeUser('eve@example.com', 'admin');
    const dee = await signedIn('dee@example.com', pw1);
    const { secret, recovery } = await enrol(dee);
    const eve = await signedIn('eve@example.com', pw2);
    const theirs = await eve.post('/api/v1/me/mfa/disable', { code: await codeAt(secret, 1) });
    expect(theirs.status).toBe(409);
    const byRecovery = await eve.post('/api/v1/me/mfa/disable', { code: recovery[1] });
    expect(byRecovery.status).toBe(409);
    expect((await dee.get('/api/v1/me/mfa')).body.enabled).toBe(true);
    for (const path of ['/api/v1/users/x/mfa/disable', '/api/v1/me/mfa/disable?user_id=x']) {
      const res = await eve.post(path, { code: recovery[1] });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect((await dee.post('/api/v1/me/mfa/disable', { code: '999999' })).status).toBe(401);
    expect((await dee.post('/api/v1/me/mfa/disable', { code: recovery[1] })).status).toBe(204);
    expect((await dee.get('/api/v1/me/mfa')).body.enabled).toBe(false);
    const plain = await login('dee@example.com', pw1);
    expect(plain.body.access_token).toBeTruthy();
  });

  it('refuses API keys and bad input without a 500', async () => {
    const project = (await ts.admin.get('/api/v1/projects')).body.data[0].id;
    const key = await ts.admin.post('/api/v1/keys', {
      name: 'k',
      project_id: project,
      scopes: ['admin:write'],
    });
    const byKey = ts.client(key.body.secret ?? key.body.key);
    expect((await byKey.get('/api/v1/me/mfa')).status).toBe(403);
    expect((await byKey.post('/api/v1/me/mfa/totp', {})).status).toBe(403);
    for (const body of [{}, { code: 12 }, { code: 'x'.repeat(500) }, { code: '123456', extra: 1 }])
      expect((await ts.admin.post('/api/v1/me/mfa/totp/confirm', body)).status).toBe(400);
    for (const body of [
      {},
      { mfa_token: 'nope', code: '123456' },
      { mfa_token: 'mfa_nope', code: '123456' },
    ]) {
      const res = await ts.client().post('/api/v1/auth/mfa/verify', body);
      expect([400, 401]).toContain(res.status);
    }
    expect((await ts.client().get('/api/v1/me/mfa')).status).toBe(401);
  });
});

describe('org policy: MFA required for admins', () => {
  it('is set only by the org’s owners and admins', async () => {
    const pw = await makeUser('ops@example.com', 'operator');
    const operator = await signedIn('ops@example.com', pw);
    const refused = await operator.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: true });
    expect(refused.status).toBe(403);
    const sso = await operator.patch(`/api/v1/orgs/${orgId}`, { sso_required: true });
    expect(sso.status).toBe(403);
    const elsewhere = await ts.admin.post('/api/v1/orgs', { name: 'Elsewhere' });
    const admin = ts.client();
    await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD, elsewhere.body.id);
    const otherOrg = await admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: true });
    expect(otherOrg.status).toBe(404);
    // no identity provider here: requiring SSO would lock everyone out
    const noIdp = await ts.admin.patch(`/api/v1/orgs/${orgId}`, { sso_required: true });
    expect(noIdp.status).toBe(422);
    expect((await ts.admin.get(`/api/v1/orgs/${orgId}`)).body).toMatchObject({
      sso_required: false,
      mfa_required_for_admins: false,
    });
  });

  it('lets an admin without a factor only enrol, then signs them in', async () => {
    const pw = await makeUser('gus@example.com', 'admin');
    const viewerPw = await makeUser('hal@example.com', 'viewer');
    const on = await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: true });
    expect(on.body.mfa_required_for_admins).toBe(true);

    const viewer = await login('hal@example.com', viewerPw);
    expect(viewer.body.access_token).toBeTruthy();

    const challenge = await login('gus@example.com', pw);
    expect(challenge.body).toMatchObject({ mfa_required: 'enrol' });
    const token = challenge.body.mfa_token;
    expect((await ts.client(token).get('/api/v1/me')).status).toBe(401);
    const asVerify = await ts.client().post('/api/v1/auth/mfa/verify', { mfa_token: token, code: '123456' });
    expect(asVerify.status).toBe(401);
    const start = await ts.client().post('/api/v1/auth/mfa/enrol', { mfa_token: token });
    expect(start.status).toBe(200);
    const wrong = await ts
      .client()
      .post('/api/v1/auth/mfa/enrol/confirm', { mfa_token: token, code: '000000' });
    expect(wrong.status).toBe(401);
    const done = await ts
      .client()
      .post('/api/v1/auth/mfa/enrol/confirm', { mfa_token: token, code: await codeAt(start.body.secret) });
    expect(done.status).toBe(200);
    expect(done.body.recovery_codes).toHaveLength(10);
    expect(done.body.refresh_token).toMatch(/^rt_/);
    const gus = ts.client(done.body.access_token);
    expect((await gus.get('/api/v1/me')).body.role).toBe('admin');
    expect((await gus.get('/api/v1/me/mfa')).body).toMatchObject({ enabled: true, required: true });
    const off = await gus.post('/api/v1/me/mfa/disable', { code: done.body.recovery_codes[0] });
    expect(off.status).toBe(403);
    expect(off.body.error.details).toMatchObject({ reason: 'mfa_required' });

    const next = await login('gus@example.com', pw);
    expect(next.body.mfa_required).toBe('verify');

    const browser = await ts
      .client()
      .post('/api/v1/auth/login', { email: 'gus@example.com', password: pw, token_delivery: 'cookie' });
    const verified = await ts.client().post('/api/v1/auth/mfa/verify', {
      mfa_token: browser.body.mfa_token,
      code: await codeAt(start.body.secret, 1),
    });
    expect(verified.status).toBe(200);
    expect(verified.body.refresh_token).toBeUndefined();
    expect(verified.headers.get('set-cookie')).toMatch(/maas_refresh=rt_/);

    // an owner without a factor cannot move a session into an org that requires one
    const other = await ts.admin.post('/api/v1/orgs', { name: 'Policy elsewhere' });
    const mine = ts.client();
    await mine.login(ADMIN_EMAIL, ADMIN_PASSWORD, other.body.id);
    const refused = await mine.post('/api/v1/auth/switch-org', { org_id: orgId });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/requires two-step verification/);
    expect((await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: false })).status).toBe(
      200,
    );
    const admin = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(admin.body.access_token).toBeTruthy();
  });

  it('counts a custom role with an admin-level permission as an admin, not one of operator level', async () => {
    const managerPw = await makeUser('ivy@example.com', 'viewer');
    const keysPw = await makeUser('jon@example.com', 'viewer');
    const people = await ts.admin.post('/api/v1/roles', {
      name: 'people-admin',
      permissions: ['members:read', 'members:write'],
    });
    const keys = await ts.admin.post('/api/v1/roles', {
      name: 'key-keeper',
      permissions: ['keys:read', 'keys:write'],
    });
    expect(people.status).toBe(201);
    expect(keys.status).toBe(201);
    const members = (await ts.admin.get('/api/v1/memberships?limit=100')).body.data as {
      id: string;
      email?: string;
      user?: { email: string };
    }[];
    const idOf = (email: string) => members.find((m) => (m.email ?? m.user?.email) === email)!.id;
    expect(
      (await ts.admin.patch(`/api/v1/memberships/${idOf('ivy@example.com')}`, { role_id: people.body.id }))
        .status,
    ).toBe(200);
    expect(
      (await ts.admin.patch(`/api/v1/memberships/${idOf('jon@example.com')}`, { role_id: keys.body.id }))
        .status,
    ).toBe(200);
    expect((await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: true })).status).toBe(
      200,
    );
    try {
      expect((await login('ivy@example.com', managerPw)).body).toMatchObject({ mfa_required: 'enrol' });
      expect((await login('jon@example.com', keysPw)).body.access_token).toBeTruthy();
    } finally {
      await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: false });
    }
  });
});
