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
 * The knowledge bases page in a real browser against a real `maas serve` (embeddings from the fake
 * upstream), with the session only (no API key): a store is created, a txt document uploaded with
 * progress runs through parse/split/embed/index, a document with no text fails and says why, a
 * search finds the chunk with its dense and BM25 scores, the settings are edited (new chunking
 * re-indexes), a viewer sees no write actions, the store is deleted.
 */

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const DOC =
  'The lighthouse keeper logged every ship that passed the northern cape. ' +
  'Tea plantations on the hillside were harvested twice each spring.';

let ts: TestServer;
let upstream: FakeUpstream;
let browser: Browser;
let page: Page;
let project = '';
const pageErrors: string[] = [];

const shot = (name: string, p: Page = page) => screenshot(p, SHOTS, name);
const visit = (path: string, p: Page = page) => visitPage(p, ts.url, path);
const fileRow = (name: string, p: Page = page) => p.locator('.ant-table-row', { hasText: name });
const storeRow = (name: string, p: Page = page) =>
  p.locator('[data-testid="kb-stores"] .ant-table-row', { hasText: name });

async function signIn(p: Page, email: string, password: string): Promise<void> {
  await p.goto(`${ts.url}/login`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByTestId('login-submit').click();
  await p.getByTestId('user-menu').waitFor();
}

/** the console's own API, as the bootstrap owner */
const kbApi = (path = '') => `/api/v1/projects/${project}/knowledge-bases${path}`;

async function addDocument(name: string, text: string): Promise<void> {
  await page.getByTestId('kb-add-file').click();
  await page
    .locator('.ant-modal input[type=file]')
    .setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.getByTestId('kb-upload-file-name').waitFor();
  await page.getByTestId('kb-add-file-start').click();
  await page.locator('.ant-modal').waitFor({ state: 'hidden' });
  await fileRow(name).waitFor();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildConsoleIfNeeded({ quiet: true });
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret' });
  ts = await startTestServer();
  await setUpGateway(ts, upstream);
  const provider = (await ts.admin.get('/api/v1/providers')).body.data[0];
  const embed = await ts.admin.post('/api/v1/models', {
    name: 'kb-embed',
    type: 'embedding',
    targets: [{ provider_id: provider.id, upstream_model: 'fake-embed' }],
  });
  expect(embed.status).toBe(201);
  project = (await ts.admin.get('/api/v1/projects')).body.data[0].id;
  browser = await launchChromium();
  page = await newConsolePage(browser, pageErrors);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 120_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page)
    await shot(`FAILED-knowledge-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
  await upstream?.close();
});

describe('knowledge bases page', { timeout: 120_000 }, () => {
  it('creates a store, uploads a txt document and follows it through every stage to completed', async () => {
    await visit('/knowledge');
    // no API key is asked for: the session reaches the project's knowledge bases
    expect(await page.getByTestId('playground-key-input').count()).toBe(0);
    await page.getByText('No knowledge bases in this project').waitFor();
    await page.getByTestId('kb-create').click();
    await page.getByTestId('kb-create-name').fill('Harbour handbook');
    await page.getByTestId('kb-create-submit').click();
    await page.getByTestId('kb-files').waitFor();
    expect(await page.locator('.ant-drawer').textContent()).toContain('kb-embed');

    await addDocument('lighthouse.txt', DOC);
    await eventually(() =>
      fileRow('lighthouse.txt').getByTestId('kb-file-status').getAttribute('data-status'),
    ).toBe('completed');
    for (const stage of ['parse', 'split', 'embed', 'index'])
      expect(
        await fileRow('lighthouse.txt').getByTestId(`kb-stage-${stage}`).getAttribute('data-state'),
      ).toBe('done');
    // the chunk browser shows what the document was split into
    await fileRow('lighthouse.txt').locator('.ant-table-row-expand-icon').click();
    await eventually(() => page.getByTestId('kb-chunks').textContent()).toContain('lighthouse keeper');
    await shot('60-knowledge-files');
  });

  it('shows why a document failed', async () => {
    await addDocument('blank.txt', '   \n\n  ');
    await eventually(() =>
      fileRow('blank.txt').getByTestId('kb-file-status').getAttribute('data-status'),
    ).toBe('failed');
    const storeId = (await ts.admin.get(kbApi())).body.data[0].id;
    const failed = (await ts.admin.get(kbApi(`/${storeId}/documents?status=failed`))).body.data[0];
    expect(failed.last_error.message.length).toBeGreaterThan(0);
    expect(await fileRow('blank.txt').getByTestId('kb-file-error').textContent()).toBe(
      failed.last_error.message,
    );
    expect(await fileRow('blank.txt').getByTestId('kb-stage-parse').getAttribute('data-state')).toBe(
      'failed',
    );
    await shot('61-knowledge-file-failed');
  });

  it('searches the store and shows the hit with its score breakdown and chunk text', async () => {
    await page.getByTestId('kb-tab-search').click();
    await page.getByTestId('kb-search-query').fill('lighthouse keeper northern cape');
    await page.getByTestId('kb-search-run').click();
    await eventually(() => page.getByTestId('kb-hit').count()).toBeGreaterThan(0);
    const hit = page.getByTestId('kb-hit').first();
    expect(await hit.getByTestId('kb-hit-text').textContent()).toContain('lighthouse keeper');
    expect(await hit.textContent()).toContain('lighthouse.txt');
    expect(await hit.getByTestId('kb-hit-score').textContent()).toMatch(/\d\.\d{4}/);
    expect(await hit.getByTestId('kb-hit-bm25').textContent()).toMatch(/BM25 \d\.\d{4}/);
    expect(await hit.getByTestId('kb-hit-dense').textContent()).toMatch(/\d\.\d{4}/);
    await shot('62-knowledge-search');
  });

  it('edits the settings: new chunking re-indexes the documents', async () => {
    await page.getByTestId('kb-settings-open').click();
    await page.getByTestId('kb-settings-name').fill('Harbour handbook');
    await page.locator('.ant-modal input#max_chunk_size_tokens').fill('200');
    await page.locator('.ant-modal input#chunk_overlap_tokens').fill('20');
    await shot('62b-knowledge-settings');
    await page.getByTestId('kb-settings-submit').click();
    await page.locator('.ant-modal').waitFor({ state: 'hidden' });
    await eventually(() => page.getByTestId('kb-store-chunking').textContent()).toContain('200');
    const storeId = (await ts.admin.get(kbApi())).body.data[0].id;
    const kb = (await ts.admin.get(kbApi(`/${storeId}`))).body;
    expect(kb.chunking_strategy.static).toMatchObject({
      max_chunk_size_tokens: 200,
      chunk_overlap_tokens: 20,
    });
    // the document is indexed again with the new settings
    await eventually(async () => {
      const docs = (await ts.admin.get(kbApi(`/${storeId}/documents?status=completed`))).body.data;
      return docs.find((d: { filename: string }) => d.filename === 'lighthouse.txt')?.chunking_strategy.static
        .max_chunk_size_tokens;
    }).toBe(200);
    await eventually(() =>
      fileRow('lighthouse.txt').getByTestId('kb-file-status').getAttribute('data-status'),
    ).toBe('completed');
    await page.locator('.ant-drawer-close').click();
    await eventually(() => storeRow('Harbour handbook').getByTestId('kb-file-counts').textContent()).toMatch(
      /1 Completed.*1 Failed/,
    );
    await shot('63-knowledge-stores');
  });

  it('shows a viewer the stores, files and search but no write action', async () => {
    expect(
      (
        await ts.admin.post('/api/v1/users', {
          email: 'kb-viewer@example.com',
          password: 'viewer-password',
          role: 'viewer',
        })
      ).status,
    ).toBe(201);
    const vp = await newConsolePage(browser, pageErrors);
    await signIn(vp, 'kb-viewer@example.com', 'viewer-password');
    await visit('/knowledge', vp);
    await storeRow('Harbour handbook', vp).waitFor();
    expect(await vp.getByTestId('kb-create').count()).toBe(0);
    expect(await vp.getByTestId('kb-store-delete').count()).toBe(0);
    await storeRow('Harbour handbook', vp).getByTestId('kb-store-open').click();
    await fileRow('lighthouse.txt', vp).waitFor();
    expect(await vp.getByTestId('kb-add-file').count()).toBe(0);
    expect(await vp.getByTestId('kb-file-remove').count()).toBe(0);
    expect(await vp.getByTestId('kb-settings-open').count()).toBe(0);
    expect(await vp.getByTestId('kb-reindex').count()).toBe(0);
    await shot('64-knowledge-viewer', vp);
    await vp.context().close();
  });

  it('reads in Chinese, and deletes the store', async () => {
    await switchLanguage(page, 'zh');
    await eventually(() => page.locator('[data-page="knowledge"]').textContent()).toContain('知识库');
    expect(await page.locator('.ant-table-tbody').textContent()).toContain('已完成');
    await shot('65-knowledge-zh');
    await switchLanguage(page, 'en');
    await eventually(() => page.locator('body').textContent()).toContain('Knowledge bases');

    await storeRow('Harbour handbook').getByTestId('kb-store-delete').click();
    await page.getByTestId('kb-store-delete-confirm').click();
    await page.getByText('No knowledge bases in this project').waitFor();
    expect((await ts.admin.get(kbApi())).body.data).toEqual([]);
  });
});
