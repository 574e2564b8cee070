import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { linkOf, type SmtpSink, startSmtpSink } from '../../server/test/support/smtp-sink.ts';
import { buildConsoleIfNeeded } from '../scripts/build-if-needed.mjs';
import { eventually, launchChromium, newConsolePage, screenshot, visit as visitPage } from './harness.ts';

/**
 * Invitations in the console, in Debian's chromium: the mailed link (read from a real SMTP server)
 * opens the invite page, which creates the account; the members page resends and withdraws
 * invitations and opens self-registration; the profile lists the user's own keys; usage groups by user.
 */
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const SMTP = { user: 'console-mailer', pass: 'console-smtp-password' };

let ts: TestServer;
let sink: SmtpSink;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const shot = (name: string, p: Page = page) => screenshot(p, SHOTS, name);

async function signIn(p: Page, email: string, password: string): Promise<void> {
  await p.goto(`${ts.url}/login`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByTestId('login-submit').click();
  await p.getByTestId('user-menu').waitFor();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildConsoleIfNeeded({ quiet: true });
  sink = await startSmtpSink(SMTP);
  ts = await startTestServer();
  const mail = await ts.admin.request('PUT', '/api/v1/mail-settings', {
    host: '127.0.0.1',
    port: sink.port,
    security: 'none',
    username: SMTP.user,
    password: SMTP.pass,
    from_address: 'maas <noreply@console.test>',
    // the console of this test server is the public URL, so the mailed link opens it
    public_url: ts.url,
  });
  expect(mail.status).toBe(200);
  browser = await launchChromium();
  page = await newConsolePage(browser, pageErrors);
}, 300_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page)
    await shot(`FAILED-invite-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
  await sink?.close();
});

describe('invitations in the console', { timeout: 90_000 }, () => {
  it('follows the mailed link: the invite page creates the account, and the link works once', async () => {
    expect(
      (await ts.admin.post('/api/v1/invitations', { email: 'dana@console.test', role: 'operator' })).status,
    ).toBe(201);
    const { link } = linkOf(await sink.next('dana@console.test'));
    expect(link.startsWith(`${ts.url}/invite#token=`)).toBe(true);
    const invitee = await newConsolePage(browser, pageErrors);
    await invitee.goto(link);
    await expect.poll(() => invitee.getByTestId('invite-offer').textContent()).toContain('dana@console.test');
    await shot('invite-offer', invitee);
    await invitee.getByTestId('invite-name').fill('Dana');
    await invitee.getByTestId('invite-password').fill('dana-password-123');
    await invitee.getByTestId('invite-accept').click();
    await invitee.getByTestId('invite-done').waitFor();
    // the spent token left the address bar
    expect(invitee.url()).toBe(`${ts.url}/invite`);
    await signIn(invitee, 'dana@console.test', 'dana-password-123');
    // a second visit of the same link is refused
    await invitee.goto(link);
    await invitee.getByTestId('invite-invalid').waitFor();
    await invitee.close();
  });

  it('declines from the invite page', async () => {
    await ts.admin.post('/api/v1/invitations', { email: 'erin@console.test', role: 'viewer' });
    const { link } = linkOf(await sink.next('erin@console.test'));
    const invitee = await newConsolePage(browser, pageErrors);
    await invitee.goto(link);
    await invitee.getByTestId('invite-decline').click();
    await expect.poll(() => invitee.getByTestId('invite-done').textContent()).toContain('declined');
    await invitee.close();
  });

  it('lists, resends and withdraws invitations, and opens self-registration, on the members page', async () => {
    await ts.admin.post('/api/v1/invitations', { email: 'finn@console.test', role: 'viewer' });
    const first = linkOf(await sink.next('finn@console.test'));
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await visitPage(page, ts.url, '/members');
    const row = page.locator('[data-testid="invitations-card"] .ant-table-row', {
      hasText: 'finn@console.test',
    });
    await eventually(() => row.getByTestId('invitation-mail-status').textContent()).toBe('Sent');
    await row.getByTestId('invitation-resend').click();
    const second = linkOf(await sink.next('finn@console.test'));
    expect(second.token).not.toBe(first.token);
    await shot('invite-members');
    await row.getByTestId('invitation-revoke').click();
    await page.locator('.ant-popconfirm .ant-btn-dangerous').click();
    await row.waitFor({ state: 'detached' });
    expect((await ts.admin.post('/api/v1/auth/invitations/lookup', { token: second.token })).status).toBe(
      404,
    );

    await page.getByTestId('registration-enabled').click();
    await page.locator('[data-testid="registration-card"] .ant-select-selector').click();
    await page.keyboard.type('console.test,');
    await page.getByTestId('registration-save').click();
    await eventually(async () => (await ts.admin.get('/api/v1/org-registration')).body).toEqual({
      enabled: true,
      domains: ['console.test'],
    });
    // a user's limits are set from the members page
    await page
      .locator('.ant-table-row', { hasText: 'dana@console.test' })
      .getByTestId('member-limits')
      .click();
    await page.getByText('Limits of dana@console.test').waitFor();
    // closed by its button and waited for: after Escape the drawer's mask could stay over the nav
    await page.locator('.ant-drawer-close').click();
    await eventually(() => page.locator('.ant-drawer-mask:visible').count()).toBe(0);
    // the platform admin sees the SMTP settings, without the password
    await page.getByTestId('mail-settings-card').waitFor();
    expect(await page.getByTestId('mail-host').inputValue()).toBe('127.0.0.1');
    expect(await page.content()).not.toContain(SMTP.pass);
  });

  it('shows the user their own keys on the profile, and usage by user', async () => {
    const dana = ts.client();
    await dana.login('dana@console.test', 'dana-password-123');
    const project = (await dana.get('/api/v1/projects')).body.data[0].id;
    expect((await dana.post('/api/v1/keys', { name: 'dana-personal', project_id: project })).status).toBe(
      201,
    );
    const p = await newConsolePage(browser, pageErrors);
    await signIn(p, 'dana@console.test', 'dana-password-123');
    await visitPage(p, ts.url, '/profile');
    await eventually(() => p.getByTestId('my-keys-card').textContent()).toContain('dana-personal');
    await shot('invite-profile', p);
    await p.close();

    await visitPage(page, ts.url, '/usage');
    await page.getByText('By user').click();
    await page.getByTestId('usage-user-filter').waitFor();
    // the spent link's lookup answers 404 by design: the browser logs it; scripts must not fail
    expect(pageErrors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
  });
});
