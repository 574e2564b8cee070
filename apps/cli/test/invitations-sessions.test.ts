import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from './support/cli.ts';

/** The built CLI: invitations addressed to you, your sessions, and changing your own password. */
let ts: TestServer;
let orgB: string;
const cli = cliWith();
const maas = cli.run;
const alice = { email: 'alice@example.com', password: 'alice-password-1' };

beforeAll(async () => {
  ts = await startTestServer();
  orgB = (await ts.admin.post('/api/v1/orgs', { name: 'Org B' })).body.id;
  await ts.admin.post('/api/v1/users', { ...alice, role: 'viewer' });
  const inB = ts.client();
  await inB.login(ADMIN_EMAIL, ADMIN_PASSWORD, orgB);
  expect((await inB.post('/api/v1/invitations', { email: alice.email, role: 'operator' })).status).toBe(201);
  const login = await maas(['login', ts.url, '--email', alice.email, '--password-stdin'], {
    input: `${alice.password}\n`,
  });
  expect(login.code, login.stderr).toBe(0);
});
afterAll(async () => {
  await ts?.close();
});

describe('invitations and sessions', () => {
  it('lists the invitations addressed to you and accepts one', async () => {
    const ls = await maas(['invitations', 'ls', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    const [offer] = ls.json();
    expect(offer).toMatchObject({ org_name: 'Org B', role: 'operator', status: 'pending' });
    const accept = await maas(['invitations', 'accept', offer.id]);
    expect(accept.code, accept.stderr).toBe(0);
    expect(accept.stdout).toContain('accepted');
    const me = await maas(['whoami', '-o', 'json']);
    expect(me.json().memberships.map((m: { org_id: string }) => m.org_id)).toContain(orgB);
  });

  it('lists your sessions and revokes another one', async () => {
    const other = ts.client();
    await other.login(alice.email, alice.password);
    const ls = await maas(['sessions', 'ls', '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    const sessions = ls.json() as { id: string; current: boolean }[];
    expect(sessions).toHaveLength(2);
    const notThis = sessions.find((s) => !s.current)!;
    const revoke = await maas(['sessions', 'revoke', notThis.id]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await other.get('/api/v1/me')).status).toBe(401);
  });

  it('changes your own password with the current one', async () => {
    const wrong = await maas(
      ['users', 'update', alice.email, '--password-stdin', '--current-password', 'not-the-password'],
      { input: 'alice-password-2\n' },
    );
    expect(wrong.code).not.toBe(0);
    const ok = await maas(
      ['users', 'update', alice.email, '--password-stdin', '--current-password', alice.password],
      { input: 'alice-password-2\n' },
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(
      (await ts.client().post('/api/v1/auth/login', { ...alice, password: 'alice-password-2' })).status,
    ).toBe(200);
  });
});
