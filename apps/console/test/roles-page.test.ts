import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '@maas/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleIfNeeded } from '../scripts/build-if-needed.mjs';
import {
  eventually,
  launchChromium,
  newConsolePage,
  screenshot,
  switchLanguage,
  visit as visitPage,
} from './harness.ts';

/**
 * The roles page in Debian's chromium: a custom role made from grouped permission checkboxes, a
 * project role, the effective permissions with their sources (also from the members page), a
 * viewer who sees no write action, and the page in Chinese.
 */
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

let ts: TestServer;
let browser: Browser;
let page: Page;
let projectId: string;
let ivyId: string;
const pageErrors: string[] = [];
const shot = (name: string, p: Page = page) => screenshot(p, SHOTS, name);
const visit = (path: string, p: Page = page) => visitPage(p, ts.url, path);

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
  ts = await startTestServer();
  projectId = (await ts.admin.post('/api/v1/projects', { name: 'search-app' })).body.id;
  ivyId = (
    await ts.admin.post('/api/v1/users', {
      email: 'ivy@roles.test',
      password: 'ivy-password-12',
      role: 'viewer',
    })
  ).body.id;
  browser = await launchChromium();
  page = await newConsolePage(browser, pageErrors);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 400_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page)
    await shot(`FAILED-roles-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
});

describe('roles in the console', { timeout: 90_000 }, () => {
  it('lists the built-in roles and creates a custom role from permissions grouped by area', async () => {
    await visit('/roles');
    await eventually(() => page.getByTestId('role-perms-viewer').textContent()).toMatch(/\d+ permissions/);
    await page.getByTestId('role-new').click();
    await page.getByTestId('role-name').fill('key manager');
    await page.getByTestId('perm-area-keys').waitFor();
    await page.getByTestId('perm-keys:read').check();
    await page.getByTestId('perm-keys:write').check();
    await page.getByTestId('perm-projects:read').check();
    await shot('roles-editor');
    await page.getByRole('button', { name: 'OK' }).click();
    await eventually(() => page.getByTestId('role-perms-key manager').textContent()).toBe('3 permissions');
    const role = (await ts.admin.get('/api/v1/roles')).body.data.find(
      (r: { name: string }) => r.name === 'key manager',
    );
    expect(role.permissions).toEqual(['projects:read', 'keys:read', 'keys:write']);

    await page.getByTestId('role-edit-key manager').click();
    await page.getByTestId('perm-usage:read').check();
    await page.getByRole('button', { name: 'OK' }).click();
    await eventually(() => page.getByTestId('role-perms-key manager').textContent()).toBe('4 permissions');
  });

  it('gives a member a project role and shows the effective permissions with their sources', async () => {
    const card = page.getByTestId('project-roles-card');
    await card.getByTestId('project-roles-project').click();
    await page.locator('.ant-select-dropdown:visible').getByText('search-app').click();
    await card.getByTestId('project-roles-member').click();
    await page.locator('.ant-select-dropdown:visible').getByText('ivy@roles.test').click();
    await card.getByTestId('project-roles-role').click();
    await page.locator('.ant-select-dropdown:visible').getByText('Operator', { exact: true }).click();
    await card.getByTestId('project-roles-assign').click();
    await eventually(() => card.locator('tbody').textContent()).toContain('ivy@roles.test');
    const assigned = await ts.admin.get(`/api/v1/projects/${projectId}/members`);
    expect(assigned.body.data).toMatchObject([{ user_id: ivyId, role: { id: 'operator' } }]);

    await page.getByTestId('effective-member').click();
    await page.locator('.ant-select-dropdown:visible').getByText('ivy@roles.test').click();
    const view = page.getByTestId('effective-permissions');
    await eventually(() => view.textContent()).toContain('keys:write');
    await expect.poll(() => view.textContent()).toContain('operator in search-app');
    await expect.poll(() => view.textContent()).toContain('org role viewer');
    await shot('roles-effective');

    await visit('/members');
    await page.getByTestId('effective-ivy@roles.test').click();
    const drawer = page.locator('.ant-drawer-content').getByTestId('effective-permissions');
    await eventually(() => drawer.textContent()).toContain('operator in search-app');
    await page.locator('.ant-drawer-close').click();
    await eventually(() => page.locator('.ant-drawer-mask:visible').count()).toBe(0);
  });

  it('shows a viewer the roles without any write action, and speaks Chinese', async () => {
    const viewer = await newConsolePage(browser, pageErrors);
    await signIn(viewer, 'ivy@roles.test', 'ivy-password-12');
    await visit('/roles', viewer);
    await eventually(() => viewer.getByTestId('role-perms-key manager').textContent()).toBe('4 permissions');
    expect(await viewer.getByTestId('role-new').count()).toBe(0);
    expect(await viewer.getByTestId('role-edit-key manager').count()).toBe(0);
    expect(await viewer.getByTestId('project-roles-assign').count()).toBe(0);
    await viewer.close();

    await visit('/roles');
    await switchLanguage(page, 'zh');
    await eventually(() => page.getByTestId('role-perms-key manager').textContent()).toBe('4 项权限');
    await expect.poll(() => page.getByTestId('project-roles-card').textContent()).toContain('项目角色');
    await shot('roles-zh');
    await switchLanguage(page, 'en');
    // The language menu must be gone and the page English again before the confirm opens.
    await eventually(() => page.getByTestId('role-perms-key manager').textContent()).toBe('4 permissions');
    await page.mouse.move(0, 0);

    await page.getByTestId('role-delete-key manager').click();
    await page.getByTestId('role-delete-confirm-key manager').click();
    await eventually(() => page.getByTestId('role-perms-key manager').count()).toBe(0);
  });
});
