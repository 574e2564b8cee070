import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from './support/cli.ts';

/** The built CLI as a child process against a real server: login, contexts, resources, exit codes. */
let ts: TestServer;
const cli = cliWith();
const maas = cli.run;
const configFile = join(cli.configDir, 'config.json');
const readConfig = () => JSON.parse(readFileSync(configFile, 'utf8'));

beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

describe('login, contexts and whoami', () => {
  it('refuses a wrong password with exit 3 and one error line, and saves nothing', async () => {
    const r = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin'], {
      input: 'wrong-password\n',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: .+\n$/);
    expect(r.stdout).toBe('');
  });

  it('logs in with the password on stdin, stores the context with mode 0600, and says who you are', async () => {
    const login = await maas(['login', ts.url, '--email', ADMIN_EMAIL, '--password-stdin', '-o', 'json'], {
      input: `${ADMIN_PASSWORD}\n`,
    });
    expect(login.code, login.stderr).toBe(0);
    const name = new URL(ts.url).host;
    expect(login.json()).toMatchObject({
      context: name,
      server: ts.url,
      kind: 'user',
      email: ADMIN_EMAIL,
      role: 'owner',
    });
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(statSync(cli.configDir).mode & 0o077).toBe(0);
    expect(readConfig()).toMatchObject({
      current_context: name,
      contexts: { [name]: { server: ts.url, email: ADMIN_EMAIL } },
    });

    const me = await maas(['whoami', '-o', 'json']);
    expect(me.code).toBe(0);
    expect(me.json()).toMatchObject({
      kind: 'user',
      context: name,
      org: { slug: 'default' },
      user: { email: ADMIN_EMAIL },
    });
  });

  it('refreshes an expired session by itself and stores the rotated pair', async () => {
    const config = readConfig();
    const ctx = config.contexts[config.current_context];
    const refresh = ctx.refresh_token;
    ctx.access_token = 'no-longer-valid';
    writeFileSync(configFile, JSON.stringify(config));
    const me = await maas(['whoami', '-o', 'json']);
    expect(me.code, me.stderr).toBe(0);
    const after = readConfig().contexts[config.current_context];
    expect(after.refresh_token).not.toBe(refresh);
    expect(after.access_token).not.toBe('no-longer-valid');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
  });

  it('keeps named contexts: ls, use, rm', async () => {
    const second = await maas(
      ['login', ts.url, '--context', 'other', '--email', ADMIN_EMAIL, '--password-stdin'],
      {
        input: ADMIN_PASSWORD,
      },
    );
    expect(second.code, second.stderr).toBe(0);
    const ls = await maas(['context', 'ls', '-o', 'json']);
    expect(ls.json().map((c: { name: string; current: boolean }) => [c.name, c.current])).toEqual([
      [new URL(ts.url).host, false],
      ['other', true],
    ]);
    expect((await maas(['context', 'use', new URL(ts.url).host])).code).toBe(0);
    expect((await maas(['context', 'rm', 'other'])).code).toBe(0);
    const missing = await maas(['context', 'use', 'other']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toBe('error: no context named "other" (see: maas context ls)\n');
    expect(readConfig().current_context).toBe(new URL(ts.url).host);
  });
});

describe('resources', () => {
  it('creates, lists, gets by name, updates and deletes a project; not found is exit 4, a conflict exit 5', async () => {
    const created = await maas(['projects', 'create', 'search-app', '--description', 'search', '-o', 'json']);
    expect(created.code, created.stderr).toBe(0);
    const id = created.json().id;
    expect(id).toMatch(/^prj_/);
    expect((await maas(['projects', 'create', 'search-app'])).code).toBe(5);

    const ls = await maas(['projects', 'ls', '-o', 'json']);
    expect(
      ls
        .json()
        .map((p: { name: string }) => p.name)
        .sort(),
    ).toEqual(['default', 'search-app']);
    const table = await maas(['projects', 'ls']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+DESCRIPTION\s+CREATED$/);
    expect(table.stdout).not.toContain('\x1b['); // no colour when piped

    const updated = await maas([
      'projects',
      'update',
      'search-app',
      '--description',
      'search and ranking',
      '-o',
      'yaml',
    ]);
    expect(updated.stdout).toContain('description: search and ranking');
    expect((await maas(['projects', 'delete', 'search-app', '--yes'])).code).toBe(0);
    const gone = await maas(['projects', 'get', id]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/^error: .*not found/);
  });

  it('creates a key whose secret is printed once and never listed, then revokes it', async () => {
    const created = await maas([
      'keys',
      'create',
      'ci-bot',
      '--scope',
      'inference',
      '--expires-in',
      '30d',
      '-o',
      'json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.json();
    expect(key.key).toMatch(/^sk-maas-/);
    expect(Date.parse(key.expires_at)).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const human = await maas(['keys', 'create', 'laptop']);
    expect(human.stdout).toMatch(/secret: sk-maas-\S+/);
    expect(human.stderr).toContain('only time the secret is shown');

    const ls = await maas(['keys', 'ls', '-o', 'json']);
    expect(ls.stdout).not.toContain(key.key);
    expect(
      ls
        .json()
        .map((k: { name: string }) => k.name)
        .sort(),
    ).toEqual(['ci-bot', 'laptop']);
    const got = await maas(['keys', 'get', 'ci-bot', '-o', 'json']);
    expect(got.json()).toMatchObject({ id: key.id, status: 'active' });
    expect(got.json().key).toBeUndefined();

    // the secret works on the gateway until revoked
    const models = () => fetch(`${ts.url}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } });
    expect((await models()).status).toBe(200);
    expect((await maas(['keys', 'delete', 'ci-bot', '-y'])).code).toBe(0);
    expect((await maas(['keys', 'get', key.id, '-o', 'json'])).json().status).toBe('revoked');
  });

  it('logs in with an admin API key and works with it', async () => {
    const secret = (
      await maas(['keys', 'create', 'admin-bot', '--scope', 'admin:read', '--scope', 'admin:write', '-q'])
    ).stdout.trim();
    expect(secret).toMatch(/^sk-maas-/);
    const other = cliWith();
    const login = await other.run(['login', ts.url, '--api-key-stdin'], { input: secret });
    expect(login.code, login.stderr).toBe(0);
    const users = await other.run(['users', 'ls', '-o', 'json']);
    expect(users.json().map((u: { email: string }) => u.email)).toContain(ADMIN_EMAIL);
  });
});

describe('exit codes and errors', () => {
  it('2 for usage errors, 3 when not logged in, 6 when the server cannot be reached', async () => {
    const fresh = cliWith();
    const [unknown, missingArg, badFormat, anonymous, down] = await Promise.all([
      maas(['frobnicate']),
      maas(['keys', 'create']),
      maas(['-o', 'xml', 'orgs', 'ls']),
      fresh.run(['orgs', 'ls']),
      fresh.run(['whoami'], { env: { MAAS_SERVER: 'http://127.0.0.1:9', MAAS_API_KEY: 'sk-maas-x' } }),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(missingArg.code).toBe(2);
    expect(badFormat.code).toBe(2);
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toBe('error: not logged in: run `maas login <server>` first\n');
    expect(down.code).toBe(6);
    expect(down.stderr).toMatch(/^error: cannot reach the server at http:\/\/127\.0\.0\.1:9/);
  });

  it('logout ends the session: the next call is exit 3', async () => {
    expect((await maas(['logout'])).code).toBe(0);
    const after = await maas(['whoami']);
    expect(after.code).toBe(3);
  });
});
