import { startTestServer, type TestServer } from '@maas/testkit';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from './support/cli.ts';

/** `maas login` for an account with two-step verification on (issue 20). */
let ts: TestServer;
let secret: string;
let orgB: string;
const ann = { email: 'ann@example.com', password: 'ann-password-for-cli' };
const code = (ahead: number) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + ahead * 30 });

beforeAll(async () => {
  ts = await startTestServer();
  orgB = (await ts.admin.post('/api/v1/orgs', { name: 'Org B' })).body.id;
  await ts.admin.post('/api/v1/users', { ...ann, role: 'viewer' });
  const inB = ts.client();
  await inB.login('admin@localhost', 'admin-password-for-tests', orgB);
  const invited = await inB.post('/api/v1/invitations', { email: ann.email, role: 'operator' });
  const client = ts.client();
  await client.login(ann.email, ann.password);
  expect((await client.post(`/api/v1/me/invitations/${invited.body.id}/accept`, {})).status).toBe(200);
  secret = (await client.post('/api/v1/me/mfa/totp', {})).body.secret;
  expect((await client.post('/api/v1/me/mfa/totp/confirm', { code: await code(0) })).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await ts?.close();
});

describe('maas login with a second factor', { timeout: 90_000 }, () => {
  it('refuses a wrong code with the auth exit code, then logs in with a right one', async () => {
    const cli = cliWith();
    const wrong = await cli.run(
      ['login', ts.url, '--email', ann.email, '--password-stdin', '--mfa-code', '000000'],
      {
        input: `${ann.password}\n`,
      },
    );
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/wrong or already used code/);
    const ok = await cli.run(
      ['login', ts.url, '--email', ann.email, '--password-stdin', '--org', 'Org B', '-o', 'json'],
      { input: `${ann.password}\n`, env: { MAAS_MFA_CODE: await code(1) } },
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ email: ann.email, org: { id: orgB }, role: 'operator' });
    const me = await cli.run(['whoami', '-o', 'json']);
    expect(me.json().org.id).toBe(orgB);
  });

  it('says what to do when the org requires enrolment first', async () => {
    const gus = { email: 'gus@example.com', password: 'gus-password-for-cli' };
    await ts.admin.post('/api/v1/users', { ...gus, role: 'admin' });
    const orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
    await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: true });
    const res = await cliWith().run(['login', ts.url, '--email', gus.email, '--password-stdin'], {
      input: `${gus.password}\n`,
    });
    await ts.admin.patch(`/api/v1/orgs/${orgId}`, { mfa_required_for_admins: false });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/requires two-step verification/);
  });
});
