import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer, writeTinyLlama } from '@maas/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, killQuietly, spawnAgent } from '../../server/test/support/fleet-agents.ts';
import { buildConsoleIfNeeded } from '../scripts/build-if-needed.mjs';
import { launchChromium, newConsolePage, screenshot, switchLanguage, visit as visitPage } from './harness.ts';

/**
 * The fleet pages in a real browser against a real `maas serve` and two real `maas agent`
 * processes: a node joins with the command the console shows, the testkit's tiny GGUF is deployed
 * from the console (with the scheduler's live dry run), becomes ready, answers in the playground,
 * scales to 2 (one replica per node), and a drained node's replica is rescheduled onto the other.
 * A viewer sees no write action; zh and dark render.
 */
process.env.MAAS_HEARTBEAT_MS = '300';
process.env.MAAS_FLEET_RECONCILE_MS = '200';
process.env.MAAS_REPLICA_DRAIN_MS = '100';

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'maas-console-fleet-'));
const model = writeTinyLlama(join(dir, 'tiny.gguf'), { seed: 7 });

let ts: TestServer;
let browser: Browser;
let page: Page;
let apiKey = '';
const agents: AgentProcess[] = [];
const pageErrors: string[] = [];
const LOAD_MS = 60_000;

const shot = (name: string, p: Page = page) => screenshot(p, SHOTS, name);
/**
 * Opens a page; once more by URL if it did not render: other suites rebuilding the shared console
 * dist/ while this one runs make the loaded bundle's lazy chunks 404 (a reload gets the new ones).
 */
async function visit(path: string, p: Page = page): Promise<void> {
  try {
    await visitPage(p, ts.url, path);
  } catch {
    await p.goto(`${ts.url}${path}`);
    await p.locator(`[data-page="${path.slice(1)}"]`).waitFor();
  }
}
const poll = <T>(read: () => T | Promise<T>, timeout = LOAD_MS) =>
  expect.poll(read, { timeout, interval: 250 });

async function signIn(p: Page, email: string, password: string): Promise<void> {
  await p.goto(`${ts.url}/login`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByTestId('login-submit').click();
  await p.getByTestId('user-menu').waitFor();
}

interface ReplicaView {
  id: string;
  node_id: string | null;
  state: string;
  desired: string;
}
const replicasOf = async (name: string): Promise<ReplicaView[]> => {
  const deps = (await ts.admin.get('/api/v1/deployments')).body.data as {
    name: string;
    replica_states: ReplicaView[];
  }[];
  return deps.find((d) => d.name === name)?.replica_states ?? [];
};
const nodeIdOf = async (name: string) =>
  ((await ts.admin.get('/api/v1/nodes')).body.data as { id: string; name: string }[]).find(
    (n) => n.name === name,
  )?.id;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildConsoleIfNeeded({ quiet: true });
  ts = await startTestServer();
  const project = (await ts.admin.get('/api/v1/projects')).body.data[0];
  const key = await ts.admin.post('/api/v1/keys', {
    name: 'fleet-console',
    project_id: project.id,
    scopes: ['inference'],
  });
  expect(key.status).toBe(201);
  apiKey = key.body.key;
  browser = await launchChromium();
  page = await newConsolePage(browser, pageErrors);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  // a console build on a busy machine takes minutes
}, 420_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') {
    if (pageErrors.length) console.error(`page errors:\n${pageErrors.join('\n')}`);
    for (const a of agents) console.error(`agent ${a.name}:\n${a.output.slice(-15).join('\n')}`);
    if (page) await shot(`FAILED-fleet-${task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
  }
});

afterAll(async () => {
  await browser?.close();
  for (const a of agents) {
    await a.stop();
    for (const { pid } of a.runtimePids()) killQuietly(pid);
  }
  await ts?.close();
});

describe('fleet pages', { timeout: 180_000 }, () => {
  it('joins two nodes with the command the console shows', async () => {
    await visit('/fleet');
    await page.getByText('No nodes yet').waitFor();
    await page.getByTestId('fleet-join').click();
    await page.getByTestId('fleet-join-name').fill('console-nodes');
    await page.locator('.ant-modal .ant-input-number-input').fill('2');
    await page.getByTestId('fleet-join-create').click();
    const command = ((await page.getByTestId('fleet-join-command').textContent()) ?? '').trim();
    const m = /^maas agent --server (\S+) --token (\S+)$/.exec(command);
    expect(m, command).not.toBeNull();
    expect(m![1]).toBe(ts.url);
    await shot('70-fleet-join-token');
    await page.getByTestId('fleet-join-done').click();
    // the command as shown, run by a real agent process on this machine (loopback ports)
    agents.push(await spawnAgent(m![1]!, m![2]!, 'node-a', { ports: '32400-32409', modelDirs: [dir] }));
    agents.push(await spawnAgent(m![1]!, m![2]!, 'node-b', { ports: '32410-32419', modelDirs: [dir] }));
    for (const name of ['node-a', 'node-b'])
      await page.getByTestId(`fleet-node-${name}`).getByText('Ready').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('fleet-node-node-a').textContent()).toContain('Memory');
    await poll(() => page.getByTestId('fleet-join-tokens').textContent(), 10_000).toContain('2 / 2');
    await shot('71-fleet-overview');
  });

  it('deploys the tiny GGUF with the live dry run and watches it become ready', async () => {
    await visit('/deployments');
    await page.getByText('No deployments').waitFor();
    await page.getByTestId('dep-create').click();
    await page.getByTestId('dep-model').fill('tiny');
    await page.getByTestId('dep-source').fill(model);
    // the scheduler's answer: where the replica would go and how much memory it needs
    await page.getByTestId('dep-eval-fits').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('dep-eval').textContent()).toMatch(/node-[ab]/);
    await page.getByTestId('dep-replicas').fill('40');
    await page.getByTestId('dep-eval-pending').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('dep-eval').textContent()).toMatch(/of 40 replicas fit now/);
    await page.getByTestId('dep-replicas').fill('1');
    await page.getByTestId('dep-eval-fits').waitFor({ timeout: 15_000 });
    await shot('72-deployment-create-evaluation');
    await page.getByTestId('dep-create-submit').click();
    await page.locator('.ant-modal').waitFor({ state: 'hidden' });
    await poll(() => page.getByTestId('dep-ready-tiny').textContent()).toContain('1 / 1');
    await shot('73-deployments-ready');
  });

  it('answers in the playground through the gateway', async () => {
    await visit('/playground');
    await page.getByTestId('playground-key-input').fill(apiKey);
    await page.getByTestId('playground-key-use').click();
    await poll(() => page.getByTestId('playground-model').textContent(), 15_000).toContain('tiny');
    await page.getByTestId('playground-input').fill('hello');
    await page.getByTestId('playground-send').click();
    const reply = page.getByTestId('chat-assistant').last();
    await reply.getByTestId('reply-stats').waitFor({ timeout: 30_000 });
    expect(((await reply.locator('.maas-chat-bubble').textContent()) ?? '').length).toBeGreaterThan(0);
    await shot('74-playground-tiny');
  });

  it('scales to 2: one replica per node (spread)', async () => {
    await visit('/deployments');
    await page.getByTestId('dep-scale').click();
    await page.getByTestId('dep-scale-replicas').fill('2');
    await page.getByTestId('dep-change-submit').click();
    await poll(() => page.getByTestId('dep-ready-tiny').textContent()).toContain('2 / 2');
    const nodes = new Set((await replicasOf('tiny')).map((r) => r.node_id));
    expect(nodes.size).toBe(2);
    await shot('75-deployments-scaled');
  });

  it('shows a replica with its state timeline and its log, live', async () => {
    await visit('/replicas');
    await page.getByTestId('rep-state-running').first().waitFor();
    await page.getByTestId('rep-open').first().click();
    await poll(() => page.getByTestId('rep-logs').textContent(), 15_000).toMatch(
      /model tiny ready in \d+ ms/,
    );
    const timeline = (await page.getByTestId('rep-timeline').textContent()) ?? '';
    expect(timeline).toContain('Created');
    expect(timeline).toContain('Running');
    await shot('76-replica-logs');
    await page.locator('.ant-drawer-open .ant-drawer-close').click();
  });

  it('drains node-a: its replica is rescheduled on node-b before it stops', async () => {
    const a = await nodeIdOf('node-a');
    const b = await nodeIdOf('node-b');
    await visit('/fleet');
    const card = page.getByTestId('fleet-node-node-a');
    await card.getByTestId('fleet-node-drain').click();
    await page.getByTestId('fleet-node-drain-confirm').click();
    await card.getByTestId('fleet-node-draining').waitFor();
    await shot('77-fleet-draining');
    await poll(async () => {
      const reps = (await replicasOf('tiny')).filter((r) => r.desired === 'run');
      return reps.length === 2 && reps.every((r) => r.node_id === b && r.state === 'running');
    }).toBe(true);
    await poll(async () => (await replicasOf('tiny')).some((r) => r.node_id === a), 15_000).toBe(false);
    await visit('/replicas');
    await poll(async () => (await page.getByTestId('rep-node').allTextContents()).join(','), 10_000).toBe(
      'node-b,node-b',
    );
    await shot('78-replicas-rescheduled');
  });

  it('restarts a replica from the console: a fresh one replaces it', async () => {
    const before = (await replicasOf('tiny')).map((r) => r.id);
    await page.getByTestId('rep-restart').first().click();
    await page.getByTestId('rep-restart-confirm').click();
    await poll(async () => {
      const reps = (await replicasOf('tiny')).filter((r) => r.desired === 'run' && r.state === 'running');
      return reps.length === 2 && reps.some((r) => !before.includes(r.id));
    }).toBe(true);
  });

  it('shows a viewer no write action, and renders in zh and dark', async () => {
    const created = await ts.admin.post('/api/v1/users', {
      email: 'fleet-viewer@example.com',
      password: 'fleet-viewer-password-1',
      role: 'viewer',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const viewerPage = await newConsolePage(browser, pageErrors);
    await signIn(viewerPage, 'fleet-viewer@example.com', 'fleet-viewer-password-1');
    await visit('/deployments', viewerPage);
    await viewerPage.getByTestId('dep-ready-tiny').waitFor();
    expect(await viewerPage.getByTestId('dep-create').count()).toBe(0);
    expect(await viewerPage.getByTestId('dep-scale').count()).toBe(0);
    await visit('/replicas', viewerPage);
    await viewerPage.getByTestId('rep-open').first().waitFor();
    expect(await viewerPage.getByTestId('rep-restart').count()).toBe(0);
    await visit('/fleet', viewerPage);
    await viewerPage.getByText('only platform admins see and manage them').waitFor();
    expect(await viewerPage.getByTestId('fleet-join').count()).toBe(0);
    expect(await viewerPage.getByTestId('fleet-nodes').count()).toBe(0);
    await shot('79-fleet-viewer', viewerPage);
    await viewerPage.context().close();

    await visit('/deployments');
    await switchLanguage(page, 'zh');
    await page.getByTestId('theme-toggle').click();
    await page.getByText('新建部署').waitFor();
    await shot('80-deployments-zh-dark');
    await visit('/fleet');
    await page.getByText('添加节点').first().waitFor();
    await shot('81-fleet-zh-dark');
    // what a rebuild of the shared dist/ by another suite causes (see visit) is not this page's error
    const rebuilt =
      /Failed to fetch dynamically imported module|status of 404|console page crashed|error boundary|^%[os]/;
    expect(pageErrors.filter((e) => !rebuilt.test(e))).toEqual([]);
  });
});
