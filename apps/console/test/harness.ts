import { join } from 'node:path';
import type { ApiResponse, FakeUpstream, TestServer } from '@maas/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium (apt install chromium), never a downloaded browser. */
const CHROMIUM = process.env.MAAS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });

/** A page in a fresh context (its own storage), collecting the page's errors into `errors`. */
export async function newConsolePage(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: 'en-US',
    // the console then turns chart and component animations off: screenshots are stable
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.stack ?? String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return page;
}

/** A full-page PNG of `page` under `dir`, once loading spinners are gone. */
export async function screenshot(page: Page, dir: string, name: string): Promise<void> {
  await page
    .locator('.ant-spin-spinning, .ant-skeleton-active')
    .first()
    .waitFor({ state: 'detached', timeout: 5_000 })
    .catch(() => {});
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Polls until the assertion that follows holds (a busy machine needs patience). */
export const eventually = <T>(read: () => T | Promise<T>) =>
  expect.poll(read, { timeout: 15_000, interval: 100 });

/**
 * Switches the console's language through the header menu. The hover menu can still be closing from
 * the last switch, and a click on a closing item is lost, so it retries until the header shows it.
 */
export async function switchLanguage(page: Page, lang: 'en' | 'zh'): Promise<void> {
  const shown = lang === 'zh' ? '中文' : 'EN';
  const button = page.getByTestId('language-switch');
  await expect
    .poll(
      async () => {
        if ((await button.textContent())?.includes(shown)) return true;
        await page.mouse.move(0, 0);
        await button.hover();
        const item = page.locator('.ant-dropdown:not(.ant-dropdown-hidden)').getByTestId(`lang-${lang}`);
        await item.click({ timeout: 2_000 }).catch(() => {});
        return (await button.textContent())?.includes(shown) ?? false;
      },
      { timeout: 20_000, interval: 200 },
    )
    .toBe(true);
  await page.mouse.move(0, 0);
  await page
    .locator('.ant-dropdown:not(.ant-dropdown-hidden)')
    .waitFor({ state: 'detached', timeout: 5_000 })
    .catch(() => {});
}

/** Opens a console page: with the sider menu when the console is open (no reload), else by URL. */
export async function visit(page: Page, baseUrl: string, path: string): Promise<void> {
  const id = path.slice(1) || 'overview';
  const link = page.getByTestId(`nav-${id}`);
  if (page.url().startsWith(baseUrl) && (await link.count()) > 0) await link.click();
  else await page.goto(`${baseUrl}${path}`);
  await page.waitForURL((url) => url.pathname === path);
  await page.locator(`[data-page="${id}"]`).waitFor();
}

async function created(res: Promise<ApiResponse<{ id: string }>>, what: string): Promise<{ id: string }> {
  const { status, body } = await res;
  if (status !== 201) throw new Error(`setting up ${what}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** A provider on the fake upstream, the model `fake-chat` with two versions (v2 dark), and its price. */
export async function setUpGateway(ts: TestServer, upstream: FakeUpstream): Promise<void> {
  const provider = await created(
    ts.admin.post('/api/v1/providers', {
      name: 'fake-vllm',
      type: 'openai-compatible',
      base_url: upstream.url,
      api_key: 'upstream-secret',
    }),
    'a provider',
  );
  const target = { provider_id: provider.id, upstream_model: 'fake-chat' };
  const model = await created(
    ts.admin.post('/api/v1/models', {
      name: 'fake-chat',
      type: 'chat',
      aliases: ['chat-latest'],
      context_length: 32_768,
      pricing: { currency: 'USD', input_per_million: 2, output_per_million: 6 },
      targets: [target],
    }),
    'a model',
  );
  await created(
    ts.admin.post('/api/v1/prices', {
      model_id: model.id,
      currency: 'USD',
      input_per_million: 2,
      output_per_million: 6,
    }),
    'a price',
  );
  await created(
    ts.admin.post(`/api/v1/models/${model.id}/versions`, {
      targets: [target],
      pricing: { currency: 'USD', input_per_million: 1.5, output_per_million: 5 },
    }),
    'a second version',
  );
}
