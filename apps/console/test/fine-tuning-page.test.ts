import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
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
 * The fine-tuning pages in a real browser against a real `maas serve` whose local node trains
 * with the repository's LoRA trainer (Debian's python3-torch) and serves the tiny GGUF: the wizard
 * (dataset, base model, method, hyperparameters, the server's estimate) starts a job, the drawer
 * follows it live (loss chart, events, checkpoints) to succeeded with its parity check, "deploy"
 * serves the adapter again; a viewer sees no write action; the page reads in Chinese.
 */
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
process.env.MAAS_LOCAL_AGENT = 'true';
process.env.MAAS_LOCAL_AGENT_PORTS = '32600-32609';
process.env.MAAS_HEARTBEAT_MS = '300';

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'maas-ft-console-'));
const model = writeTinyLlama(join(dir, 'tiny.gguf'), { seed: 7 });

let ts: TestServer;
let browser: Browser;
let page: Page;
let apiKey = '';
const pageErrors: string[] = [];

const shot = (name: string, p: Page = page) => screenshot(p, SHOTS, name);
const visit = (path: string, p: Page = page) => visitPage(p, ts.url, path);
const slow = (read: () => unknown) => expect.poll(read, { timeout: 240_000, interval: 500 });

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

async function pick(p: Page, testId: string, text: string): Promise<void> {
  await p.getByTestId(testId).click();
  await p.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: text }).first().click();
}

beforeAll(async () => {
  if (!hasTorch) return;
  mkdirSync(SHOTS, { recursive: true });
  const t0 = Date.now();
  buildConsoleIfNeeded({ quiet: true });
  console.log(`console build: ${Date.now() - t0} ms`);
  ts = await startTestServer();
  const dep = await ts.admin.post('/api/v1/deployments', {
    model: 'tiny',
    runtime: 'llama-cpp',
    source: model,
    replicas: 1,
  });
  expect(dep.status).toBe(201);
  const project = (await ts.admin.get('/api/v1/projects')).body.data[0];
  const key = await ts.admin.post('/api/v1/keys', {
    name: 'ft-console',
    project_id: project.id,
    scopes: ['inference'],
  });
  expect(key.status).toBe(201);
  apiKey = key.body.key;
  // the dataset, uploaded as an application would
  const rows = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: 'system', content: 'You are maas.' },
        { role: 'user', content: `say hello ${i}` },
        { role: 'assistant', content: 'hello world, the model is fast' },
      ],
    }),
  );
  const form = new FormData();
  form.append('purpose', 'fine-tune');
  form.append('file', new Blob([`${rows.join('\n')}\n`]), 'hello.jsonl');
  const up = await fetch(`${ts.url}/v1/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}` },
    body: form,
  });
  expect(up.status).toBe(200);
  // the base model answers before the wizard offers it
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await fetch(`${ts.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    if (res.status === 200) break;
    if (Date.now() > deadline)
      throw new Error(`the base model does not answer: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`base model answers: ${Date.now() - t0} ms`);
  browser = await launchChromium();
  page = await newConsolePage(browser, pageErrors);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 420_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && pageErrors.length)
    console.error(`page errors:\n${pageErrors.join('\n')}`);
  if (task.result?.state === 'fail' && page)
    await shot(`FAILED-fine-tuning-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await ts?.close();
});

describe.skipIf(!hasTorch)('fine-tuning pages', { timeout: 300_000 }, () => {
  it('starts a job with the wizard after the estimate and follows it live to succeeded', async () => {
    await visit('/fine-tuning');
    await useKey(page);
    await page.getByText('No fine-tuning jobs in this project').waitFor();
    await page.getByTestId('ft-create').click();
    await pick(page, 'ft-training-file', 'hello.jsonl');
    await page.getByTestId('ft-wizard-next').click();
    await pick(page, 'ft-base-model', 'tiny');
    await page.getByTestId('ft-suffix').fill('console');
    await page.getByTestId('ft-wizard-next').click();
    await page.getByTestId('ft-hp-n_epochs').fill('3');
    await page.getByTestId('ft-hp-batch_size').fill('4');
    await page.getByTestId('ft-wizard-next').click();
    // 18 examples after the held-out split would be 5 steps an epoch; the estimate counts the file's 20
    await eventually(() => page.getByTestId('ft-estimate-steps').textContent()).toBe('15');
    expect(await page.getByTestId('ft-estimate').textContent()).toContain('Estimated cost');
    await shot('90-fine-tuning-wizard-estimate');
    await page.getByTestId('ft-wizard-submit').click();

    const drawer = page.getByTestId('ft-drawer');
    await drawer.waitFor();
    await slow(() => drawer.getByTestId('ft-status').first().getAttribute('data-status')).toBe('succeeded');
    await eventually(async () =>
      Number(await drawer.getByTestId('ft-loss').getAttribute('data-points')),
    ).toBe(15);
    const last = Number(await drawer.getByTestId('ft-loss').getAttribute('data-last'));
    expect(last).toBeLessThan(5);
    expect(await drawer.getByTestId('ft-drawer-model').textContent()).toMatch(/^ft:tiny:.+:console:/);
    const events = drawer.getByTestId('ft-events');
    await eventually(() => events.textContent()).toContain('Parity check passed');
    expect(await events.textContent()).toContain('The job has successfully completed');
    await shot('91-fine-tuning-job');

    await drawer.getByRole('tab', { name: 'Checkpoints' }).click();
    await eventually(() => drawer.getByTestId('ft-checkpoint-download').count()).toBeGreaterThan(0);
    expect(await drawer.getByTestId('ft-adapter-download').count()).toBe(1);
    await shot('92-fine-tuning-checkpoints');

    await drawer.getByTestId('ft-deploy').click();
    await page.getByText('Served on 1 replica(s) of tiny').waitFor();
    await page.locator('.ant-drawer-close').click();
    await eventually(() => page.getByTestId('ft-status').first().getAttribute('data-status')).toBe(
      'succeeded',
    );
    await shot('93-fine-tuning-jobs');
  });

  it('shows a viewer the jobs and the chart but no write action', async () => {
    expect(
      (
        await ts.admin.post('/api/v1/users', {
          email: 'ft-viewer@example.com',
          password: 'viewer-password',
          role: 'viewer',
        })
      ).status,
    ).toBe(201);
    const vp = await newConsolePage(browser, pageErrors);
    await signIn(vp, 'ft-viewer@example.com', 'viewer-password');
    await visit('/fine-tuning', vp);
    await useKey(vp);
    await vp.getByTestId('ft-open').first().waitFor();
    expect(await vp.getByTestId('ft-create').count()).toBe(0);
    await vp.getByTestId('ft-open').first().click();
    await vp.getByTestId('ft-loss').waitFor();
    for (const id of ['ft-deploy', 'ft-pause', 'ft-resume', 'ft-cancel'])
      expect(await vp.getByTestId(id).count()).toBe(0);
    await shot('94-fine-tuning-viewer', vp);
    await vp.context().close();
  });

  it('reads in Chinese', async () => {
    await switchLanguage(page, 'zh');
    await eventually(() => page.locator('[data-page="fine-tuning"]').textContent()).toContain('微调');
    expect(await page.locator('.ant-table-tbody').textContent()).toContain('已成功');
    await shot('95-fine-tuning-zh');
    await switchLanguage(page, 'en');
    await eventually(() => page.locator('body').textContent()).toContain('Fine-tuning');
  });
});
