import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@maas/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleIfNeeded } from '../scripts/build-if-needed.mjs';
import { eventually, launchChromium, newConsolePage, screenshot } from './harness.ts';

/**
 * Passkeys in the console, in Debian's chromium with its WebAuthn virtual authenticator (the same
 * browser code path as a device's screen lock). Screenshots land in test/screenshots/passkey-*.png.
 */
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

let ts: TestServer;
let browser: Browser;
/** WebAuthn needs a host name as relying party: the console is opened as localhost */
let site: string;
const pageErrors: string[] = [];
let page: Page;
const shot = (name: string) => screenshot(page, SHOTS, name);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildConsoleIfNeeded({ quiet: true });
  ts = await startTestServer();
  site = ts.url.replace('127.0.0.1', 'localhost');
  browser = await launchChromium();
}, 120_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page) await shot('FAILED-passkey').catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
});

async function passwordStep(p: Page, email: string, password: string) {
  await p.goto(`${site}/login`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByTestId('login-submit').click();
}

describe('console passkeys', { timeout: 90_000 }, () => {
  it('adds a passkey on the profile page and signs in with it', async () => {
    const email = 'nia@corp.example';
    const password = 'nia-password-for-tests';
    expect((await ts.admin.post('/api/v1/users', { email, password, role: 'operator' })).status).toBe(201);
    page = await newConsolePage(browser, pageErrors);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    await passwordStep(page, email, password);
    await page.getByTestId('user-menu').waitFor();
    await page.goto(`${site}/profile`);
    await page.getByTestId('passkey-add').click();
    await page.getByTestId('passkey-name').fill('chromium key');
    await page.getByTestId('passkey-create').click();
    // the first factor of the account: recovery codes, shown once
    await page.getByTestId('recovery-codes').waitFor();
    await shot('passkey-01-added');
    await page.getByTestId('recovery-done').click();
    await eventually(() => page.getByTestId('passkeys-card').textContent()).toContain('chromium key');
    await shot('passkey-02-profile');

    await page.getByTestId('user-menu').click();
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login/);
    await passwordStep(page, email, password);
    await page.getByTestId('mfa-passkey').waitFor();
    await shot('passkey-03-sign-in-step');
    await page.getByTestId('mfa-passkey').click();
    await eventually(() => page.getByTestId('user-menu').textContent()).toContain(email);

    const listed = await ts.admin.get('/api/v1/audit-events?action=auth.login&limit=5');
    expect(JSON.stringify(listed.body.data)).toContain('"mfa":"passkey"');

    await page.goto(`${site}/profile`);
    await page.getByTestId('passkey-remove-chromium key').click();
    await page.locator('.ant-popconfirm .ant-btn-primary').click();
    await eventually(() => page.getByTestId('passkeys-card').textContent()).toContain('No passkeys yet');
    const me = ts.client();
    await me.login(email, password);
    expect((await me.get('/api/v1/me/mfa')).body).toMatchObject({ enabled: false, passkeys: 0 });
    expect(pageErrors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
  });
});
