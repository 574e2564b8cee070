import { type ApiClient, createApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftAuthenticator } from './support/soft-authenticator.ts';

let ts: TestServer;
let orgId: string;
/** the console as the browser reaches it: WebAuthn has no relying party for an IP address */
let site: string;

beforeAll(async () => {
  ts = await startTestServer();
  orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
  site = ts.url.replace('127.0.0.1', 'localhost');
});
afterAll(async () => {
  await ts?.close();
});

const client = (token?: string) => createApiClient(site, token);

async function makeUser(email: string, role: string) {
  const password = `${email}-password`;
  expect((await ts.admin.post('/api/v1/users', { email, password, role })).status).toBe(201);
  const c = client();
  await c.login(email, password);
  return { password, c };
}

async function addPasskey(c: ApiClient, name: string, key = new SoftAuthenticator(site)) {
  const options = await c.post('/api/v1/me/mfa/passkeys/options', {});
  expect(options.status).toBe(200);
  expect(options.body.rp.id).toBe('localhost');
  const added = await c.post('/api/v1/me/mfa/passkeys', { name, response: key.create(options.body) });
  expect(added.status).toBe(201);
  return { key, added: added.body };
}

const passwordStep = (email: string, password: string) =>
  client().post('/api/v1/auth/login', { email, password, token_delivery: 'body' });

describe('passkeys as a second factor', () => {
  it('adds a passkey, then finishes every password sign-in with it', async () => {
    const { password, c } = await makeUser('pia@example.com', 'operator');
    const { key, added } = await addPasskey(c, 'laptop');
    expect(added.passkey).toMatchObject({ name: 'laptop', last_used_at: null });
    expect(added.recovery_codes).toHaveLength(10);
    expect((await c.get('/api/v1/me/mfa')).body).toMatchObject({
      enabled: true,
      totp: false,
      passkeys: 1,
      recovery_codes_left: 10,
    });

    const step = await passwordStep('pia@example.com', password);
    expect(step.body).toMatchObject({ mfa_required: 'verify', mfa_methods: ['passkey', 'recovery_code'] });
    const token = step.body.mfa_token;
    const options = await client().post('/api/v1/auth/mfa/passkey/options', { mfa_token: token });
    expect(options.status).toBe(200);
    expect(options.body.allowCredentials).toEqual([
      { id: key.id, type: 'public-key', transports: ['internal'] },
    ]);
    const answer = key.get(options.body);
    const done = await client().post('/api/v1/auth/mfa/passkey/verify', {
      mfa_token: token,
      response: answer,
    });
    expect(done.status).toBe(200);
    expect((await client(done.body.access_token).get('/api/v1/me')).body.role).toBe('operator');
    expect((await c.get('/api/v1/me/mfa/passkeys')).body.data[0].last_used_at).not.toBeNull();

    // the sign-in is over: the same answer again is refused
    const again = await client().post('/api/v1/auth/mfa/passkey/verify', {
      mfa_token: token,
      response: answer,
    });
    expect(again.status).toBe(401);
    // a recovery code still works instead of the passkey
    const next = await passwordStep('pia@example.com', password);
    const byCode = await client().post('/api/v1/auth/mfa/verify', {
      mfa_token: next.body.mfa_token,
      code: added.recovery_codes[0],
    });
    expect(byCode.status).toBe(200);
  });

  it('refuses a replayed signature, another site, another user’s passkey and a stranger’s id', async () => {
    const { password, c } = await makeUser('quin@example.com', 'viewer');
    const { key } = await addPasskey(c, 'phone');
    const other = await makeUser('rex@example.com', 'viewer');
    const { key: rexKey, added: rexAdded } = await addPasskey(other.c, 'rex key');

    const step = await passwordStep('quin@example.com', password);
    const token = step.body.mfa_token;
    const verify = (response: unknown) =>
      client().post('/api/v1/auth/mfa/passkey/verify', { mfa_token: token, response });
    const options = (await client().post('/api/v1/auth/mfa/passkey/options', { mfa_token: token })).body;

    // made on a phishing page: the browser would have put that page's origin in the signed data
    expect((await verify(key.get(options, 'localhost', 'http://evil.example'))).status).toBe(401);
    // signed for another relying party id
    expect((await verify(key.get(options, 'evil.example'))).status).toBe(401);
    // another user's passkey answering this user's sign-in
    expect((await verify(rexKey.get(options))).status).toBe(401);
    const fresh = key.get(options);
    // a garbled answer is a 400 in the API's format, never a 500
    const garbled = await verify({ ...fresh, response: { ...fresh.response, signature: '!!' } });
    expect(garbled.status).toBe(400);
    expect(garbled.body.error).toBeTruthy();
    expect((await verify(fresh)).status).toBe(200);

    // an old counter: a cloned authenticator replaying into a later sign-in
    const later = (await passwordStep('quin@example.com', password)).body.mfa_token;
    const laterOptions = (await client().post('/api/v1/auth/mfa/passkey/options', { mfa_token: later })).body;
    key.counter = 0;
    const cloned = await client().post('/api/v1/auth/mfa/passkey/verify', {
      mfa_token: later,
      response: key.get(laterOptions),
    });
    expect(cloned.status).toBe(401);

    // failed answers count like failed passwords
    const audit = await ts.admin.get('/api/v1/audit-events?action=auth.mfa_failed');
    expect(audit.body.data.length).toBeGreaterThanOrEqual(4);

    // no route names another user's passkey
    expect((await c.delete(`/api/v1/me/mfa/passkeys/${rexAdded.passkey.id}`)).status).toBe(404);
    expect((await other.c.get('/api/v1/me/mfa/passkeys')).body.data).toHaveLength(1);
  });

  it('refuses API keys, an IP address as the site, a registration without options, and bad input', async () => {
    const project = (await ts.admin.get('/api/v1/projects')).body.data[0].id;
    const made = await ts.admin.post('/api/v1/keys', {
      name: 'k',
      project_id: project,
      scopes: ['admin:write'],
    });
    const byKey = client(made.body.secret ?? made.body.key);
    expect((await byKey.get('/api/v1/me/mfa/passkeys')).status).toBe(403);
    expect((await byKey.post('/api/v1/me/mfa/passkeys/options', {})).status).toBe(403);

    const { c } = await makeUser('sue@example.com', 'viewer');
    const byIp = createApiClient(ts.url, c.token);
    const ip = await byIp.post('/api/v1/me/mfa/passkeys/options', {});
    expect(ip.status).toBe(400);
    expect(ip.body.error.message).toMatch(/host name/);

    const key = new SoftAuthenticator(site);
    const unasked = await c.post('/api/v1/me/mfa/passkeys', {
      name: 'x',
      response: key.create({ rp: { id: 'localhost' }, challenge: 'AAAA' }),
    });
    expect(unasked.status).toBe(409);
    // options made, but the answer signs another challenge
    await c.post('/api/v1/me/mfa/passkeys/options', {});
    const wrongChallenge = await c.post('/api/v1/me/mfa/passkeys', {
      name: 'x',
      response: key.create({ rp: { id: 'localhost' }, challenge: 'AAAA' }),
    });
    expect(wrongChallenge.status).toBe(401);
    expect((await c.get('/api/v1/me/mfa')).body.passkeys).toBe(0);
    for (const body of [{}, { name: '', response: {} }, { name: 'x', response: { id: 1 } }])
      expect((await c.post('/api/v1/me/mfa/passkeys', body)).status).toBe(400);
    expect((await client().post('/api/v1/auth/mfa/passkey/options', { mfa_token: 'mfa_nope' })).status).toBe(
      401,
    );
  });

  it('keeps the last factor of an admin whose org requires MFA; removing it otherwise turns MFA off', async () => {
    const { password, c } = await makeUser('tia@example.com', 'admin');
    const { added } = await addPasskey(c, 'only');
    const id = added.passkey.id;
    expect((await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: true })).status).toBe(
      200,
    );
    const kept = await c.delete(`/api/v1/me/mfa/passkeys/${id}`);
    expect(kept.status).toBe(403);
    expect(kept.body.error.details).toMatchObject({ reason: 'mfa_required' });
    expect((await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: false })).status).toBe(
      200,
    );
    expect((await c.delete(`/api/v1/me/mfa/passkeys/${id}`)).status).toBe(204);
    expect((await c.get('/api/v1/me/mfa')).body).toMatchObject({ enabled: false, recovery_codes_left: 0 });
    expect((await passwordStep('tia@example.com', password)).body.access_token).toBeTruthy();
    const log = await ts.admin.get('/api/v1/audit-events?action=user.passkey_remove');
    expect(log.body.data).toHaveLength(1);
  });
});
