import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleIfNeeded } from '../scripts/build-if-needed.mjs';
import {
  eventually,
  launchChromium,
  newConsolePage,
  screenshot,
  setUpGateway,
  switchLanguage,
  visit as visitPage,
} from './harness.ts';

/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core) against a real
 * `maas serve` and a fake OpenAI-style upstream. Screenshots of every page land in test/screenshots/.
 */

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

let ts: TestServer;
let upstream: FakeUpstream;
let browser: Browser;
let page: Page;
let secret = '';
const pageErrors: string[] = [];

const shot = (name: string, p: Page = page) => screenshot(p, SHOTS, name);
const visit = (path: string, p: Page = page) => visitPage(p, ts.url, path);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildConsoleIfNeeded({ quiet: true });
  // streams slow enough to watch them arrive
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret', chunks: 24, chunkDelayMs: 40 });
  ts = await startTestServer();
  await setUpGateway(ts, upstream);
  browser = await launchChromium();
  page = await newConsolePage(browser, pageErrors);
}, 120_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page)
    await shot(`FAILED-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
  await upstream?.close();
});

describe('web console', { timeout: 45_000 }, () => {
  it('serves the app at / and keeps API 404s as JSON', async () => {
    const html = await fetch(`${ts.url}/keys`);
    expect(html.headers.get('content-type')).toContain('text/html');
    const api = await ts.admin.get('/api/v1/no-such-route');
    expect(api.status).toBe(404);
    expect(api.body.error.code).toBe('not_found');
    const gw = await fetch(`${ts.url}/v1/no-such-route`);
    expect((await gw.json()).error.type).toBeTruthy();
  });

  it('refuses a wrong password in words, then signs in', async () => {
    await page.goto(`${ts.url}/`);
    await page.waitForURL(/\/login/);
    await shot('01-login');
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    await eventually(() => page.getByTestId('login-error').textContent()).toContain(
      'Wrong email or password',
    );
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid="stat-requests"]').waitFor();
    await eventually(() => page.getByTestId('user-menu').textContent()).toBeTruthy();
    await shot('02-overview-empty');
  });

  it('creates an API key and shows its secret exactly once', async () => {
    await visit('/keys');
    await page.getByTestId('key-create').click();
    await page.getByTestId('key-name').fill('support-bot production');
    await page.getByRole('button', { name: 'Create key' }).click();
    const box = page.getByTestId('key-secret');
    await box.waitFor();
    secret = (await box.textContent())!.trim();
    expect(secret).toMatch(/^sk-maas-/);
    await eventually(() => page.locator('.ant-modal').textContent()).toContain('will not be shown again');
    await shot('03-key-secret');
    await page.getByText('I have copied the secret and stored it safely').click();
    await page.getByTestId('secret-done').click();
    await page.getByTestId('key-secret').waitFor({ state: 'detached' });
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain(
      'support-bot production',
    );
    await page.reload();
    await page.locator('.ant-table-tbody').getByText('support-bot production').waitFor();
    expect(await page.content()).not.toContain(secret);
    await shot('04-keys');
  });

  it('rotates the key with a grace period and sets a rate limit on it', async () => {
    await page.getByRole('button', { name: 'Rotate' }).first().click();
    await page.locator('.ant-modal-content .ant-select').click();
    await page.getByTitle('24 hours').click();
    await page.locator('.ant-modal-content').getByRole('button', { name: 'Rotate' }).click();
    await eventually(() => page.locator('.ant-modal-content').first().textContent()).toContain(
      'The new secret of this key',
    );
    const rotated = ((await page.getByTestId('key-secret').textContent()) ?? '').trim();
    expect(rotated).toMatch(/^sk-maas-/);
    expect(rotated).not.toBe(secret);
    secret = rotated;
    await page.getByText('I have copied the secret and stored it safely').click();
    await page.getByTestId('secret-done').click();
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain('old secret ends');
    await page.getByRole('button', { name: 'Limits' }).first().click();
    await page.locator('.ant-drawer-open').getByRole('button', { name: 'Add limits' }).click();
    await page.getByLabel('Requests / minute').fill('600');
    await page.getByLabel('Token quota').fill('1000000');
    await page.locator('.ant-modal-content').getByRole('button', { name: 'OK' }).click();
    await eventually(() => page.locator('.ant-drawer-open').textContent()).toContain('Requests this minute');
    await shot('05-key-limits');
    await page.locator('.ant-drawer-open .ant-drawer-close').click();
    await page.locator('.ant-drawer-open').waitFor({ state: 'detached' });
  });

  it('gets a streamed reply in the playground with its tokens, cost and latency', async () => {
    await visit('/playground');
    await page.getByTestId('playground-key-input').fill(secret);
    await page.getByTestId('playground-key-use').click();
    await eventually(() => page.locator('[data-testid="playground-model"]').textContent()).toContain(
      'fake-chat',
    );
    await page.getByTestId('playground-input').fill('hello from the console');
    await page.getByTestId('playground-send').click();
    const reply = page.getByTestId('chat-assistant').last();
    // streaming: text is visible while the reply is still arriving (the caret shows)
    await page.waitForFunction(
      () => {
        const bubbles = document.querySelectorAll('[data-testid="chat-assistant"] .maas-chat-bubble');
        const last = bubbles[bubbles.length - 1];
        return (
          Boolean(last?.querySelector('.maas-caret')) &&
          (last?.textContent ?? '').replace('▍', '').trim().length > 0
        );
      },
      undefined,
      { polling: 'raf', timeout: 15_000 },
    );
    const stats = reply.getByTestId('reply-stats');
    await stats.waitFor({ timeout: 15_000 });
    expect(await reply.locator('.maas-chat-bubble').textContent()).toContain('hello from the console');
    const text = (await stats.textContent()) ?? '';
    expect(text).toMatch(/Tokens: \d+ → 24/);
    expect(text).toMatch(/Cost: \$0\.000/);
    expect(text).toMatch(/Latency: \d+/);
    expect(upstream.requests.some((r) => r.body?.stream === true)).toBe(true);
    await shot('06-playground');
  });

  it('shows that request in the usage chart and on the overview', async () => {
    await ts.server.services.metering.writer.flush();
    await visit('/usage');
    await eventually(() => page.getByTestId('usage-table').textContent()).toContain('fake-chat');
    await page.getByTestId('usage-chart').locator('canvas').waitFor();
    await eventually(() => page.getByTestId('usage-table').textContent()).toMatch(/fake-chat\s*1/);
    await shot('07-usage');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('usage-export').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^maas-usage-\d{8}-\d{8}\.csv$/);
    expect(await readFile((await download.path())!, 'utf8')).toContain('fake-chat');
    await page.getByRole('tab', { name: 'Bills' }).click();
    await page.getByRole('button', { name: 'Generate statement' }).click();
    await eventually(() => page.locator('.ant-tabs-tabpane-active .ant-table-tbody').textContent()).toMatch(
      /\d{4}-\d{2}/,
    );
    await shot('08-bills');
    await visit('/');
    await eventually(() => page.getByTestId('stat-requests').textContent()).toContain('1');
    await eventually(() => page.getByTestId('top-models').textContent()).toContain('fake-chat');
    await shot('09-overview');
  });

  it('lists the key changes in the audit log with a before/after diff and a verified chain', async () => {
    await visit('/audit');
    await eventually(() => page.getByTestId('audit-chain').textContent()).toContain('Audit chain intact');
    // The chain status and the event list are two requests: wait for the rows, not only the status.
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain('key.create');
    const row = page.locator('.ant-table-row', { hasText: 'key.rotate' }).first();
    await row.locator('.ant-table-row-expand-icon').click();
    const diff = page.getByTestId('audit-diff').first();
    await diff.waitFor();
    expect(await diff.textContent()).toMatch(/prefix\s*changed/);
    expect(await page.content()).not.toContain(secret);
    await shot('10-audit');
  });

  it('tests a provider, shifts canary traffic, and shows projects, members and orgs', async () => {
    await visit('/providers');
    await page.getByTestId('provider-test-fake-vllm').click();
    await page.getByTestId('provider-test-result').waitFor();
    expect(await page.locator('.ant-modal-confirm').textContent()).toContain('fake-vllm answered');
    await shot('11-provider-test');
    await page.locator('.ant-modal-confirm .ant-btn').click();
    await shot('12-providers');
    await visit('/models');
    await shot('13-models');
    await page.getByText('fake-chat', { exact: true }).click();
    await page.getByRole('tab', { name: 'Canary traffic' }).click();
    await page.locator('.ant-drawer-open .ant-input-number-input').nth(1).fill('10');
    await page.getByRole('button', { name: 'Apply split' }).click();
    await eventually(() => page.getByTestId('traffic-bar').textContent()).toContain('v2 · 9.1%');
    const model = await ts.admin.get('/api/v1/models');
    expect(model.body.data[0].traffic).toEqual({ '1': 100, '2': 10 });
    await shot('14-model-canary');
    await page.getByRole('tab', { name: 'Versions & targets' }).click();
    await shot('15-model-versions');
    await page.locator('.ant-drawer-open .ant-drawer-close').click();
    for (const [path, name] of [
      ['/projects', '16-projects'],
      ['/members', '17-members'],
      ['/orgs', '18-orgs'],
    ] as const) {
      await visit(path);
      await page.locator('.ant-table-row').first().waitFor();
      await shot(name);
    }
  });

  it('switches language to 简体中文 and theme to dark, and remembers them', async () => {
    await visit('/');
    await switchLanguage(page, 'zh');
    await eventually(() => page.locator('.ant-pro-page-container').first().textContent()).toContain('概览');
    await shot('19-overview-zh');
    await page.getByTestId('theme-toggle').click();
    await page.reload();
    await page.locator('.ant-pro-page-container').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await page.locator('body').textContent()).toContain('用量与账单');
    await shot('20-overview-zh-dark');
    await visit('/keys');
    await shot('21-keys-zh-dark');
    await page.getByTestId('theme-toggle').click();
    await switchLanguage(page, 'en');
    await eventually(() => page.locator('body').textContent()).toContain('API keys');
  });

  it('keeps the refresh token out of scripts’ reach and restores a reload through its cookie', async () => {
    const visible = await page.evaluate(() => JSON.stringify({ ...localStorage }) + document.cookie);
    expect(visible).not.toMatch(/rt_|maas_refresh|eyJ/);
    // a reload loses the in-memory access token: the HttpOnly cookie brings the session back
    await page.goto(`${ts.url}/projects`);
    await page.locator('.ant-table-row').first().waitFor();
    expect(page.url()).not.toContain('/login');
  });

  it('shows a viewer no write actions, and the API refuses them anyway', async () => {
    const viewer = await ts.admin.post('/api/v1/users', {
      email: 'viewer@example.com',
      password: 'viewer-password',
      role: 'viewer',
    });
    expect(viewer.status).toBe(201);
    const vp = await newConsolePage(browser, pageErrors);
    await vp.goto(`${ts.url}/login`);
    await vp.getByLabel('Email').fill('viewer@example.com');
    await vp.getByLabel('Password').fill('viewer-password');
    await vp.getByTestId('login-submit').click();
    await vp.getByTestId('viewer-banner').waitFor();
    await visit('/keys', vp);
    await vp.locator('.ant-table-row').first().waitFor();
    expect(await vp.getByTestId('key-create').count()).toBe(0);
    expect(await vp.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await shot('22-keys-viewer', vp);
    const token = await vp.evaluate(() =>
      fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-maas-csrf': '1' },
        body: '{}',
      })
        .then((r) => r.json())
        .then((b: { access_token: string }) => b.access_token),
    );
    const refused = await ts.client(token).post('/api/v1/projects', { name: 'not allowed' });
    expect(refused.status).toBe(403);
    await vp.context().close();
  });

  it('offers an invitation to another org, joined only by the invitee’s own click', async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Invited Org' });
    const inOrg = ts.client();
    await inOrg.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    expect(
      (await inOrg.post('/api/v1/invitations', { email: 'viewer@example.com', role: 'operator' })).status,
    ).toBe(201);
    const vp = await newConsolePage(browser, pageErrors);
    await vp.goto(`${ts.url}/login`);
    await vp.getByLabel('Email').fill('viewer@example.com');
    await vp.getByLabel('Password').fill('viewer-password');
    await vp.getByTestId('login-submit').click();
    await eventually(() => vp.getByTestId('invitation-banner').textContent()).toContain('Invited Org');
    await shot('23-invitation', vp);
    await vp.getByTestId('invitation-accept').click();
    await eventually(() => vp.getByTestId('invitation-banner').count()).toBe(0);
    const viewer = ts.client();
    await viewer.login('viewer@example.com', 'viewer-password');
    const orgs = (await viewer.get('/api/v1/me')).body.memberships.map(
      (m: { org_name: string }) => m.org_name,
    );
    expect(orgs).toContain('Invited Org');
    await vp.context().close();
  });

  it('revokes the key, then signs out', async () => {
    await visit('/keys');
    await page.getByRole('button', { name: 'Revoke' }).first().click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Revoke' }).click();
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain(
      'No keys match these filters',
    );
    const refused = await fetch(`${ts.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect(refused.status).toBe(401);
    await visit('/');
    await page.getByTestId('user-menu').click();
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login/);
    expect(await page.evaluate(() => localStorage.getItem('maas.signed-in'))).toBeNull();
    expect(await page.context().cookies()).not.toContainEqual(
      expect.objectContaining({ name: 'maas_refresh' }),
    );
  });
});
