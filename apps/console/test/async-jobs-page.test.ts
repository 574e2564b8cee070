import { mkdirSync } from 'node:fs';
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
 * The async jobs page in a real browser against a real `maas serve`: jobs queued at
 * /api/v1/async with an API key run against the fake upstream; the table follows them live, the
 * drawer shows the answer and the real error text, a writer cancels, a viewer cannot.
 */

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

let ts: TestServer;
let upstream: FakeUpstream;
let browser: Browser;
let page: Page;
let apiKey = '';
const pageErrors: string[] = [];

const shot = (name: string, p: Page = page) => screenshot(p, SHOTS, name);
const visit = (path: string, p: Page = page) => visitPage(p, ts.url, path);
const row = (id: string, p: Page = page) => p.locator('.ant-table-row', { hasText: id });
const statusOf = (id: string, p: Page = page) =>
  row(id, p).getByTestId('async-job-status').getAttribute('data-status');

async function signIn(p: Page, email: string, password: string): Promise<void> {
  await p.goto(`${ts.url}/login`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByTestId('login-submit').click();
  await p.getByTestId('user-menu').waitFor();
}

async function useKey(p: Page): Promise<void> {
  await p.getByTestId('playground-key-input').fill(apiKey);
  await p.getByTestId('playground-key-use').click();
  await p.getByTestId('gateway-key').waitFor();
}

async function submit(model: string): Promise<string> {
  const res = await fetch(`${ts.url}/api/v1/async/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello async' }] }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function jobStatus(id: string): Promise<string> {
  const res = await fetch(`${ts.url}/api/v1/async/jobs/${id}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  return ((await res.json()) as { status: string }).status;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildConsoleIfNeeded({ quiet: true });
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret' });
  ts = await startTestServer();
  await setUpGateway(ts, upstream);
  const project = (await ts.admin.get('/api/v1/projects')).body.data[0];
  const key = await ts.admin.post('/api/v1/keys', {
    name: 'async-runner',
    project_id: project.id,
    scopes: ['inference'],
  });
  expect(key.status).toBe(201);
  apiKey = key.body.key;
  browser = await launchChromium();
  page = await newConsolePage(browser, pageErrors);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 120_000);

afterEach(async ({ task }) => {
  upstream?.setFaults(null);
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page)
    await shot(`FAILED-async-jobs-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
  await upstream?.close();
});

describe('async jobs page', { timeout: 90_000 }, () => {
  let ok = '';
  let failed = '';

  it('lists the jobs with status, model, endpoint and the real error text; the drawer shows the answer', async () => {
    await visit('/jobs');
    await useKey(page);
    await page.getByText('No async jobs in this project').waitFor();
    ok = await submit('fake-chat');
    failed = await submit('no-such-model');
    for (const id of [ok, failed]) await eventually(() => jobStatus(id)).toMatch(/succeeded|failed/);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await eventually(() => statusOf(ok)).toBe('succeeded');
    expect(await statusOf(failed)).toBe('failed');
    // newest first
    const ids = await page.getByTestId('async-job-open').allTextContents();
    expect(ids.slice(0, 2)).toEqual([failed, ok]);
    expect(await row(ok).textContent()).toContain('/v1/chat/completions');
    expect(await row(ok).textContent()).toContain('fake-chat');
    const apiError = (
      await (
        await fetch(`${ts.url}/api/v1/async/jobs/${failed}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        })
      ).json()
    ).error.message as string;
    expect(apiError.length).toBeGreaterThan(0);
    expect(await row(failed).textContent()).toContain(apiError.slice(0, 20));
    await shot('50-async-jobs');

    await row(failed).getByTestId('async-job-open').click();
    await eventually(() => page.getByTestId('async-job-error').textContent()).toContain(apiError);
    await shot('51-async-job-error');
    await page.locator('.ant-drawer-close').click();
    await row(ok).getByTestId('async-job-open').click();
    const result = JSON.parse((await page.getByTestId('async-job-result').textContent()) ?? '');
    expect(result.object).toBe('chat.completion');
    expect(result.choices[0].message.role).toBe('assistant');
    await shot('52-async-job-result');
    await page.locator('.ant-drawer-close').click();

    // the status filter asks the server for one status
    await page.getByTestId('async-job-status-filter').click();
    await page.locator('.ant-select-item-option', { hasText: 'Failed' }).click();
    await eventually(() => page.getByTestId('async-job-open').allTextContents()).toEqual([failed]);
    await page.getByTestId('async-job-status-filter').locator('.ant-select-clear').click();
    await eventually(() => page.getByTestId('async-job-open').count()).toBe(2);
  });

  it('follows a running job until it finishes, without a reload', async () => {
    upstream.setFaults({ model: 'fake-chat', latencyMs: 3_000 });
    const slow = await submit('fake-chat');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await eventually(() => statusOf(slow)).toMatch(/queued|running/);
    // no click from here on: the page polls while a job runs
    await eventually(() => statusOf(slow)).toBe('succeeded');
    expect(await row(slow).textContent()).toMatch(/\d{4}.*\d{4}/); // created and finished
  });

  it('cancels a running job from its drawer; a viewer sees the jobs but no cancel', async () => {
    upstream.setFaults({ model: 'fake-chat', latencyMs: 60_000 });
    const slow = await submit('fake-chat');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await eventually(() => statusOf(slow)).toBe('running');

    expect(
      (
        await ts.admin.post('/api/v1/users', {
          email: 'async-viewer@example.com',
          password: 'viewer-password',
          role: 'viewer',
        })
      ).status,
    ).toBe(201);
    const vp = await newConsolePage(browser, pageErrors);
    await signIn(vp, 'async-viewer@example.com', 'viewer-password');
    await visit('/jobs', vp);
    await useKey(vp);
    await eventually(() => statusOf(slow, vp)).toBe('running');
    await row(slow, vp).getByTestId('async-job-open').click();
    await vp.getByTestId('async-job-drawer').waitFor();
    expect(await vp.getByTestId('async-job-cancel').count()).toBe(0);
    await shot('54-async-jobs-viewer', vp);
    await vp.context().close();

    await row(slow).getByTestId('async-job-open').click();
    await page.getByTestId('async-job-cancel').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Cancel job' }).click();
    await eventually(() => jobStatus(slow)).toBe('cancelled');
    await eventually(() => statusOf(slow)).toBe('cancelled');
    expect(await page.getByTestId('async-job-cancel').count()).toBe(0);
    await shot('53-async-job-cancelled');
  });

  it('reads in Chinese', async () => {
    await page.locator('.ant-drawer-close').click();
    await switchLanguage(page, 'zh');
    await eventually(() => page.locator('[data-page="jobs"]').textContent()).toContain('异步任务');
    expect(await page.locator('.ant-table-tbody').textContent()).toContain('已取消');
    await shot('55-async-jobs-zh');
    await switchLanguage(page, 'en');
    await eventually(() => page.locator('body').textContent()).toContain('Async jobs');
  });
});
