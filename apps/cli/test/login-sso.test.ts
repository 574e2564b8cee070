import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../../server/test/support/oidc-idp.ts';
import { createTestBrowser } from '../../server/test/support/test-browser.ts';
import { cliWith } from './support/cli.ts';

/** `maas login --sso`: the browser flow through a real OIDC provider to the CLI's loopback (issue 20). */
const bin = fileURLToPath(new URL('../bin/maas.js', import.meta.url));
let ts: TestServer;
let idp: TestIdp;

beforeAll(async () => {
  ts = await startTestServer();
  idp = await startTestIdp(ts.url);
  idp.accounts.set('alice', { email: 'alice@corp.example', email_verified: true, groups: ['ml'] });
  const orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
  const created = await ts.admin.post('/api/v1/identity-providers', {
    slug: 'corp',
    name: 'Corp',
    issuer: idp.issuer,
    client_id: idp.clientId,
    client_secret: idp.clientSecret,
    scopes: 'openid email profile groups',
    rules: [{ claim: 'groups', value: 'ml', org_id: orgId, role: 'operator' }],
  });
  expect(created.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await idp?.close();
  await ts?.close();
});

/** Runs `maas login --sso`, hands the printed URL to `browse`, and resolves with the exit. */
function loginSso(configDir: string, browse: (url: string) => Promise<void>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'login', ts.url, '--sso', '-o', 'json'], {
      env: { PATH: process.env.PATH ?? '', HOME: configDir, MAAS_CONFIG_DIR: configDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let browsing = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const url = /^\s+(http\S+)$/m.exec(stderr)?.[1];
      if (url && !browsing) {
        browsing = true;
        browse(url).catch((err) => {
          child.kill();
          reject(err);
        });
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

describe('maas login --sso', { timeout: 90_000 }, () => {
  it('signs in through the provider in a browser and saves the context', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'maas-cli-'));
    let page = '';
    const res = await loginSso(configDir, async (url) => {
      const browser = createTestBrowser();
      const loopback = await browser.follow(
        url,
        { login: 'alice', password: 'x' },
        (u) => u.pathname === '/callback',
      );
      expect(loopback.hostname).toBe('127.0.0.1');
      page = await (await browser.request(loopback.href)).text();
    });
    expect(res.code, res.stderr).toBe(0);
    expect(page).toContain('you can close this tab');
    expect(JSON.parse(res.stdout)).toMatchObject({ email: 'alice@corp.example', role: 'operator' });
    const me = await cliWith(configDir).run(['whoami', '-o', 'json']);
    expect(me.code, me.stderr).toBe(0);
    expect(me.json().user.email).toBe('alice@corp.example');
  });

  it('exits with the auth code when the provider’s account is refused', async () => {
    idp.accounts.set('nobody', { email: 'nobody@corp.example', email_verified: false });
    const res = await loginSso(mkdtempSync(join(tmpdir(), 'maas-cli-')), async (url) => {
      const browser = createTestBrowser();
      const loopback = await browser.follow(
        url,
        { login: 'nobody', password: 'x' },
        (u) => u.pathname === '/callback',
      );
      await browser.request(loopback.href);
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('email_not_verified');
  });
});
