import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkOf, type SmtpSink, startSmtpSink } from '../../server/test/support/smtp-sink.ts';
import { cliWith } from './support/cli.ts';

/** The built CLI for the org's side of invitations, self-registration, SMTP settings, and user limits. */
let ts: TestServer;
let sink: SmtpSink;
const SMTP = { user: 'cli-mailer', pass: 'cli-smtp-password' };
const maas = cliWith().run;
const viewerCli = cliWith().run;

beforeAll(async () => {
  sink = await startSmtpSink(SMTP);
  ts = await startTestServer();
  const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
    input: `${ADMIN_PASSWORD}\n`,
  });
  expect(login.code, login.stderr).toBe(0);
  await ts.admin.post('/api/v1/users', {
    email: 'v@cli.test',
    password: 'viewer-password-1',
    role: 'viewer',
  });
  const v = await viewerCli(['login', ts.url, '--email', 'v@cli.test', '--password-stdin'], {
    input: 'viewer-password-1\n',
  });
  expect(v.code, v.stderr).toBe(0);
});
afterAll(async () => {
  await ts?.close();
  await sink?.close();
});

describe('maas invitations (org side)', () => {
  it('sets SMTP with the password on stdin, never shows it, and sends a test mail', async () => {
    const set = await maas(
      [
        'invitations',
        'smtp',
        'set',
        '--host',
        '127.0.0.1',
        '--port',
        String(sink.port),
        '--security',
        'none',
        '--username',
        SMTP.user,
        '--password-stdin',
        '--from',
        'maas <noreply@cli.test>',
        '--public-url',
        'https://maas.cli.test',
      ],
      { input: `${SMTP.pass}\n` },
    );
    expect(set.code, set.stderr).toBe(0);
    const show = await maas(['invitations', 'smtp', 'show', '-o', 'json']);
    expect(show.json()).toMatchObject({
      host: '127.0.0.1',
      has_password: true,
      public_url: 'https://maas.cli.test',
    });
    expect(show.stdout).not.toContain(SMTP.pass);
    const test = await maas(['invitations', 'smtp', 'test', 'ops@cli.test']);
    expect(test.code, test.stderr).toBe(0);
    expect((await sink.next('ops@cli.test')).auth).toBe(SMTP.user);
    const denied = await viewerCli(['invitations', 'smtp', 'show']);
    expect(denied.code).toBe(3);
  });

  it('sends, lists, resends and revokes an invitation; a viewer may not send', async () => {
    const sent = await maas(['invitations', 'send', 'bob@cli.test', '--role', 'operator', '-o', 'json']);
    expect(sent.code, sent.stderr).toBe(0);
    const id = sent.json().id as string;
    const first = linkOf(await sink.next('bob@cli.test'));
    expect(first.link.startsWith('https://maas.cli.test/invite#token=')).toBe(true);
    const ls = await maas(['invitations', 'sent', '-o', 'json']);
    expect(ls.json()).toEqual([expect.objectContaining({ id, email: 'bob@cli.test', mail_status: 'sent' })]);
    expect((await maas(['invitations', 'sent'])).stdout).toContain('bob@cli.test');

    const resend = await maas(['invitations', 'resend', id]);
    expect(resend.code, resend.stderr).toBe(0);
    const second = linkOf(await sink.next('bob@cli.test'));
    expect(second.token).not.toBe(first.token);
    const revoke = await maas(['invitations', 'revoke', id]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await maas(['invitations', 'sent', '-o', 'json'])).json()).toEqual([]);

    const byViewer = await viewerCli(['invitations', 'send', 'eve@cli.test']);
    expect(byViewer.code).toBe(3);
    expect((await maas(['invitations', 'send', 'x@cli.test', '--role', 'king'])).code).toBe(2);
  });

  it('opens and closes self-registration', async () => {
    const open = await maas(['invitations', 'registration', '--open', 'cli.test,example.org']);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout).toContain('cli.test, example.org');
    const closed = await maas(['invitations', 'registration', '--close', '-o', 'json']);
    expect(closed.json()).toEqual({ enabled: false, domains: [] });
    expect((await viewerCli(['invitations', 'registration', '--open', 'cli.test'])).code).toBe(3);
  });
});

describe('user limits and usage by user', () => {
  it('limits a user by email and reports usage grouped by user', async () => {
    const created = await maas(['limits', 'create', '--user', 'v@cli.test', '--rpm', '10', '-o', 'json']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ scope: 'user', rpm: 10 });
    const ls = await maas(['limits', 'ls', '--user', 'v@cli.test', '-o', 'json']);
    expect(ls.json()).toHaveLength(1);
    expect((await maas(['limits', 'create', '--user', 'v@cli.test', '--key', 'x', '--rpm', '1'])).code).toBe(
      2,
    );
    const usage = await maas(['usage', '--group-by', 'user', '--user', 'v@cli.test', '-o', 'json']);
    expect(usage.code, usage.stderr).toBe(0);
    expect(usage.json()).toMatchObject({ group_by: ['user'], data: [] });
    expect((await maas(['usage', '--group-by', 'person'])).code).toBe(2);
  });
});
