import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
} from '@maas/testkit';
import OpenAI from 'openai';
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
 * The webhooks, files and batches pages in a real browser against a real `maas serve`: a webhook
 * endpoint on a loopback receiver (its deliveries verified with the openai SDK), a JSONL upload
 * with progress, and a batch run against the fake upstream until the table says completed.
 */

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const LINES = 16;

let ts: TestServer;
let upstream: FakeUpstream;
let browser: Browser;
let page: Page;
let receiver: Server;
let receiverUrl = '';
let apiKey = '';
let whsec = '';
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
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

async function useKey(p: Page): Promise<void> {
  await p.getByTestId('playground-key-input').fill(apiKey);
  await p.getByTestId('playground-key-use').click();
  await p.getByTestId('gateway-key').waitFor();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildConsoleIfNeeded({ quiet: true });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/maas`;
  // slow enough answers to watch a batch's progress bar move
  upstream = await startFakeUpstream({ apiKey: 'upstream-secret', latencyMs: 300 });
  ts = await startTestServer({ MAAS_BATCH_POLL_MS: '100', MAAS_BATCH_CONCURRENCY: '2' });
  await setUpGateway(ts, upstream);
  const project = (await ts.admin.get('/api/v1/projects')).body.data[0];
  const key = await ts.admin.post('/api/v1/keys', {
    name: 'batch-runner',
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
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page)
    await shot(`FAILED-jobs-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
  await upstream?.close();
  receiver?.closeAllConnections();
  receiver?.close();
});

describe('webhooks, files and batches pages', { timeout: 60_000 }, () => {
  it('creates a webhook endpoint and shows its whsec_ secret exactly once', async () => {
    await visit('/webhooks');
    await page.getByTestId('webhook-create').click();
    await page.getByTestId('webhook-url').fill(receiverUrl);
    // every event is ticked by default: keep the batch ones and job.*, drop budget alerts
    await page.getByTestId('event-budget.*').click();
    await page.getByTestId('webhook-submit').click();
    const box = page.getByTestId('webhook-secret');
    await box.waitFor();
    whsec = ((await box.textContent()) ?? '').trim();
    expect(whsec).toMatch(/^whsec_/);
    await shot('30-webhook-secret');
    await page.getByTestId('webhook-secret-stored').click();
    await page.getByTestId('webhook-secret-done').click();
    await box.waitFor({ state: 'detached' });
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain(receiverUrl);
    expect(await page.locator('.ant-table-tbody').textContent()).toContain('batch.completed');
    expect(await page.locator('.ant-table-tbody').textContent()).not.toContain('budget.*');
    await page.reload();
    await page.locator('.ant-table-tbody').getByText(receiverUrl).waitFor();
    expect(await page.content()).not.toContain(whsec);
    const [endpoint] = (await ts.admin.get('/api/v1/webhook-endpoints')).body.data;
    expect(endpoint.events).toEqual([
      'batch.completed',
      'batch.failed',
      'batch.expired',
      'batch.cancelled',
      'job.*',
    ]);
    await shot('31-webhooks');
  });

  it('sends a test event the receiver verifies, and lists the delivery with its answer; replays it', async () => {
    await page.getByTestId('webhook-test').click();
    await eventually(() => received.length).toBeGreaterThanOrEqual(1);
    const event = await new OpenAI({ apiKey: 'x', webhookSecret: whsec }).webhooks.unwrap(
      received[0]!.body,
      received[0]!.headers as Record<string, string>,
    );
    expect(event.type).toBe('webhook.test');
    await page.getByTestId('webhook-deliveries').click();
    const drawer = page.locator('.ant-drawer-open');
    await eventually(() => drawer.getByTestId('delivery-status').first().textContent()).toBe('Succeeded');
    const row = await drawer.locator('.ant-table-row').first().textContent();
    expect(row).toContain('webhook.test');
    expect(row).toContain('200');
    await shot('32-webhook-deliveries');
    await drawer.getByRole('button', { name: 'Replay' }).first().click();
    await eventually(() => received.length).toBeGreaterThanOrEqual(2);
    expect(received[1]!.headers['webhook-id']).toBe(received[0]!.headers['webhook-id']);
    await drawer.locator('.ant-drawer-close').click();
    await drawer.waitFor({ state: 'detached' });
  });

  it('rotates the secret: the new one is shown once, and both sign for the grace period', async () => {
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Rotate secret' }).click();
    const box = page.getByTestId('webhook-secret');
    await box.waitFor();
    const rotated = ((await box.textContent()) ?? '').trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(whsec);
    await page.getByTestId('webhook-secret-stored').click();
    await page.getByTestId('webhook-secret-done').click();
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain('old secret signs too');
    const before = received.length;
    await page.getByTestId('webhook-test').click();
    await eventually(() => received.length).toBeGreaterThan(before);
    const last = received.at(-1)!;
    for (const secret of [whsec, rotated]) {
      const event = await new OpenAI({ apiKey: 'x', webhookSecret: secret }).webhooks.unwrap(
        last.body,
        last.headers as Record<string, string>,
      );
      expect(event.type).toBe('webhook.test');
    }
    whsec = rotated;
  });

  it('uploads a JSONL file with a progress bar and lists it', async () => {
    await visit('/files');
    await useKey(page);
    await shot('33-files-empty');
    const jsonl = Array.from({ length: LINES }, (_, i) =>
      JSON.stringify({
        custom_id: `req-${i + 1}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'fake-chat', messages: [{ role: 'user', content: `question ${i + 1}` }] },
      }),
    ).join('\n');
    await page.getByTestId('file-upload').click();
    await page.locator('.ant-modal-content input[type=file]').setInputFiles({
      name: 'requests.jsonl',
      mimeType: 'application/jsonl',
      buffer: Buffer.from(`${jsonl}\n`),
    });
    await eventually(() => page.getByTestId('upload-file-name').textContent()).toContain('requests.jsonl');
    await page.getByTestId('upload-start').click();
    await eventually(() =>
      page.getByTestId('files-table').locator('.ant-table-tbody').textContent(),
    ).toContain('requests.jsonl');
    const listed = await new OpenAI({ apiKey, baseURL: `${ts.url}/v1` }).files.list();
    expect(listed.data.map((f) => [f.filename, f.purpose])).toEqual([['requests.jsonl', 'batch']]);
    await shot('34-files');
  });

  it('shows the upload’s progress on a slow link', async () => {
    // Chromium's network emulation throttles uploads: 512 KB at 128 KB/s takes about 4 s
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 128 * 1024,
    });
    try {
      await page.getByTestId('file-upload').click();
      await page.getByTestId('upload-purpose').click();
      await page.locator('.ant-select-item-option', { hasText: 'user_data' }).click();
      await page.locator('.ant-modal-content input[type=file]').setInputFiles({
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.alloc(512 * 1024, 'maas '),
      });
      await page.getByTestId('upload-start').click();
      const percent = () =>
        page
          .getByTestId('upload-progress')
          .getAttribute('aria-valuenow')
          .then(Number)
          .catch(() => 0);
      await eventually(percent).toBeGreaterThan(0);
      expect(await percent()).toBeLessThan(100);
      await page.screenshot({ path: `${SHOTS}/34-file-upload-progress.png` });
      await eventually(() =>
        page.getByTestId('files-table').locator('.ant-table-tbody').textContent(),
      ).toContain('notes.txt');
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
      await cdp.detach();
    }
  });

  it('creates a batch from it and watches it reach completed; downloads the output', async () => {
    await visit('/batches');
    // the key chosen on the files page is this tab's: no need to pick it again
    await page.getByTestId('gateway-key').waitFor();
    await page.getByTestId('batch-create').click();
    await page.getByTestId('batch-input-file').click();
    await page.locator('.ant-select-item-option', { hasText: 'requests.jsonl' }).click();
    await page.getByTestId('batch-submit').click();
    const status = page.getByTestId('batch-status').first();
    await eventually(() => status.getAttribute('data-status')).toBe('in_progress');
    await eventually(() => page.getByTestId('batch-progress').first().textContent()).toMatch(
      /^[1-9]\d* \/ 16/,
    );
    await shot('35-batch-in-progress');
    await expect
      .poll(() => status.getAttribute('data-status'), { timeout: 45_000, interval: 200 })
      .toBe('completed');
    await eventually(() => page.getByTestId('batch-progress').first().textContent()).toContain('16 / 16');
    await shot('36-batch-completed');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('batch-output').first().click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^batch_.*_output\.jsonl$/);
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
    const ids = lines.map((l) => (JSON.parse(l) as { custom_id: string }).custom_id).sort();
    expect(ids).toEqual(Array.from({ length: LINES }, (_, i) => `req-${i + 1}`).sort());
    // the batch.completed event reached the endpoint too
    await eventually(() => received.some((r) => r.body.includes('"batch.completed"'))).toBe(true);
  });

  it('cancels a running batch, keeping the lines already answered', async () => {
    upstream.setOptions({ latencyMs: 1500 });
    try {
      await page.getByTestId('batch-create').click();
      await page.getByTestId('batch-input-file').click();
      await page.locator('.ant-select-item-option', { hasText: 'requests.jsonl' }).click();
      await page.getByTestId('batch-submit').click();
      const newest = page.locator('.ant-table-row').first();
      await eventually(() => newest.getByTestId('batch-status').getAttribute('data-status')).toBe(
        'in_progress',
      );
      await newest.getByRole('button', { name: 'Cancel' }).click();
      await page.locator('.ant-popconfirm').getByRole('button', { name: 'Cancel batch' }).click();
      await expect
        .poll(() => newest.getByTestId('batch-status').getAttribute('data-status'), {
          timeout: 30_000,
          interval: 200,
        })
        .toBe('cancelled');
      const batches = await new OpenAI({ apiKey, baseURL: `${ts.url}/v1` }).batches.list();
      const cancelled = batches.data.find((b) => b.status === 'cancelled')!;
      expect(cancelled.request_counts!.completed).toBeLessThan(LINES);
      await shot('37-batch-cancelled');
    } finally {
      upstream.setOptions({ latencyMs: 300 });
    }
  });

  it('shows why a batch failed validation, line by line', async () => {
    const client = new OpenAI({ apiKey, baseURL: `${ts.url}/v1` });
    const bad = await client.files.create({
      file: new File(['{"custom_id": "a", "method": "POST"\nnot json\n'], 'broken.jsonl'),
      purpose: 'batch',
    });
    await client.batches.create({
      input_file_id: bad.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await page.reload();
    const newest = page.locator('.ant-table-row').first();
    await eventually(() => newest.getByTestId('batch-status').getAttribute('data-status')).toBe('failed');
    await newest.locator('.ant-table-row-expand-icon').click();
    await eventually(() => page.locator('.ant-table-expanded-row').first().textContent()).toContain(
      'invalid_json_line',
    );
    await shot('38-batch-failed');
  });

  it('reads in Chinese on the dark theme', async () => {
    await switchLanguage(page, 'zh');
    await page.getByTestId('theme-toggle').click();
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain('已完成');
    await shot('39-batches-zh-dark');
    await visit('/webhooks');
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain('已启用');
    await shot('40-webhooks-zh-dark');
    await page.getByTestId('theme-toggle').click();
    await switchLanguage(page, 'en');
    await eventually(() => page.locator('body').textContent()).toContain('Webhooks');
  });

  it('shows a viewer the lists without write actions', async () => {
    expect(
      (
        await ts.admin.post('/api/v1/users', {
          email: 'jobs-viewer@example.com',
          password: 'viewer-password',
          role: 'viewer',
        })
      ).status,
    ).toBe(201);
    const vp = await newConsolePage(browser, pageErrors);
    await signIn(vp, 'jobs-viewer@example.com', 'viewer-password');
    await visit('/webhooks', vp);
    await vp.locator('.ant-table-tbody').getByText(receiverUrl).waitFor();
    expect(await vp.getByTestId('webhook-create').count()).toBe(0);
    expect(await vp.getByTestId('webhook-test').count()).toBe(0);
    expect(await vp.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await shot('41-webhooks-viewer', vp);
    await visit('/files', vp);
    await useKey(vp);
    await vp.locator('.ant-table-tbody').getByText('requests.jsonl').waitFor();
    expect(await vp.getByTestId('file-upload').count()).toBe(0);
    expect(await vp.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await visit('/batches', vp);
    await vp.getByTestId('batch-status').first().waitFor();
    expect(await vp.getByTestId('batch-create').count()).toBe(0);
    await shot('42-batches-viewer', vp);
    await vp.context().close();
  });

  it('deletes the file and the endpoint', async () => {
    await visit('/files');
    const row = page.locator('.ant-table-row', { hasText: 'requests.jsonl' });
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await eventually(() => page.locator('.ant-table-row', { hasText: 'requests.jsonl' }).count()).toBe(0);
    await visit('/webhooks');
    await page.locator('.ant-table-row').getByRole('button', { name: 'Delete' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await eventually(() => page.locator('.ant-table-tbody').textContent()).toContain(
      'No webhook endpoints yet',
    );
    expect((await ts.admin.get('/api/v1/webhook-endpoints')).body.data).toEqual([]);
  });
});
