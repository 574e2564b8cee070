// The container image's commands, run here exactly as the image runs them: deploy/docker-entrypoint.sh
// with the image's environment (MAAS_DATA_DIR, HOME and TMPDIR of their own), from a working
// directory the process cannot write, and (when these tests run as root, as CI does) as an
// unprivileged user that owns only the data and temporary directories, like the image's user. The
// entrypoint runs the production bundle (dist/maas.mjs), built here when it is older than the sources.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, createApiClient, type FakeUpstream, startFakeUpstream } from '@maas/testkit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundleIfStale } from '../scripts/build-bundle.mjs';

const root = new URL('../../../', import.meta.url).pathname;
const entrypoint = join(root, 'deploy/docker-entrypoint.sh');
const NOBODY = 65534;

/** root runs the image's commands as `nobody`, if that user can read the checkout */
function imageUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const probe = spawnSync('node', ['-e', `require('fs').accessSync(${JSON.stringify(entrypoint)})`], {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
  });
  return probe.status === 0 ? { uid: NOBODY, gid: NOBODY } : undefined;
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe('the image entrypoint (deploy/docker-entrypoint.sh)', () => {
  const user = imageUser();
  const readOnlyDir = mkdtempSync(join(tmpdir(), 'maas-image-ro-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'maas-image-data-'));
  const tmpDir = mkdtempSync(join(tmpdir(), 'maas-image-tmp-'));
  const children: ChildProcess[] = [];
  let upstream: FakeUpstream;

  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: readOnlyDir,
    TMPDIR: tmpDir,
    MAAS_DATA_DIR: dataDir,
    MAAS_PORT: '0',
    MAAS_LOG_LEVEL: 'info',
    MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MAAS_OUTBOUND_ALLOW: '127.0.0.1',
    ...extra,
  });

  function run(args: string[], extra: Record<string, string> = {}): Run {
    const child = spawn(entrypoint, args, {
      cwd: readOnlyDir,
      env: env(extra),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, output: () => out, exited };
  }

  async function serving(server: Run): Promise<string> {
    for (let i = 0; i < 1800; i++) {
      for (const line of server.output().split('\n')) {
        if (!line.includes('"maas is serving"')) continue;
        // the image listens on every interface (0.0.0.0); the test calls it on loopback
        return (JSON.parse(line).url as string).replace('0.0.0.0', '127.0.0.1');
      }
      if (server.child.exitCode !== null) throw new Error(`maas serve exited:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`maas serve did not start:\n${server.output()}`);
  }

  beforeAll(async () => {
    await buildBundleIfStale();
    chmodSync(readOnlyDir, 0o555);
    if (user) {
      chownSync(dataDir, user.uid, user.gid);
      chownSync(tmpDir, user.uid, user.gid);
    }
    upstream = await startFakeUpstream({ chunks: 3 });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await upstream?.close();
  });

  it('migrate, then serve with MAAS_MIGRATE=wait (as compose and the Helm chart run them): listens on every interface, becomes ready, answers a chat, writes owner-only files into the data dir only, stops on SIGTERM', async () => {
    const migrate = run(['migrate']);
    expect(await migrate.exited, migrate.output()).toBe(0);
    const server = run(['serve'], { MAAS_MIGRATE: 'wait', MAAS_MIGRATE_TIMEOUT_S: '5' });
    const url = await serving(server);
    expect(server.output()).toMatch(/"url":"http:\/\/0\.0\.0\.0:\d+"/);

    // the image's HEALTHCHECK command against this process
    let healthy: number | null = 1;
    for (let i = 0; i < 100 && healthy !== 0; i++) {
      healthy = spawnSync('node', [join(root, 'deploy/healthcheck.mjs')], {
        env: { PATH: process.env.PATH, MAAS_PORT: new URL(url).port },
      }).status;
      if (healthy !== 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(healthy).toBe(0);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const admin = createApiClient(url);
    await admin.login('admin@localhost', ADMIN_PASSWORD);
    const provider = await admin.post('/api/v1/providers', {
      name: 'fake',
      type: 'openai-compatible',
      base_url: upstream.url,
    });
    expect(provider.status).toBe(201);
    const model = await admin.post('/api/v1/models', {
      name: 'chat-small',
      type: 'chat',
      targets: [{ provider_id: provider.body.id, upstream_model: 'fake-chat' }],
    });
    expect(model.status).toBe(201);
    const projects = await admin.get('/api/v1/projects');
    const projectId = projects.body.data.find((p: { name: string }) => p.name === 'default').id;
    const key = await admin.post('/api/v1/keys', {
      name: 'image',
      project_id: projectId,
      scopes: ['inference'],
    });
    expect(key.status).toBe(201);

    const client = new OpenAI({ apiKey: key.body.key, baseURL: `${url}/v1`, maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'chat-small',
      messages: [{ role: 'user', content: 'hello from the image' }],
    });
    expect(answer.choices[0]!.message.content).toBe('hello from the');
    expect(answer.usage?.completion_tokens).toBe(3);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toContain(key.body.key);

    const written = walk(dataDir);
    expect(written.some((f) => f.path.endsWith('secret.key'))).toBe(true);
    const shared = written
      .filter((f) => (f.mode & 0o077) !== 0)
      .map((f) => `${f.path} ${f.mode.toString(8)}`);
    expect(shared).toEqual([]);
    if (user) expect(written.filter((f) => f.uid !== user.uid).map((f) => f.path)).toEqual([]);
    expect(readdirSync(readOnlyDir)).toEqual([]);
  }, 300_000); // two cold starts (migrate, serve) as an unprivileged user

  it('agent --help and the CLI run through the same entrypoint; a shell runs as it is', async () => {
    const agent = run(['agent', '--help']);
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toContain('--server <url>');
    expect(agent.output()).toContain('--token <join-token>');

    const agentWithoutServer = run(['agent']);
    expect(await agentWithoutServer.exited).not.toBe(0);
    expect(agentWithoutServer.output()).toContain('--server is required');

    const shell = run(['sh', '-c', 'echo "$MAAS_DATA_DIR|$MAAS_AGENT_DATA_DIR|$MAAS_CONFIG_DIR"; umask']);
    expect(await shell.exited).toBe(0);
    expect(shell.output().trim().split('\n')).toEqual([`${dataDir}|${dataDir}/agent|${dataDir}/cli`, '0077']);
  }, 60_000);
});

function walk(dir: string): { path: string; mode: number; uid: number }[] {
  const found: { path: string; mode: number; uid: number }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    found.push({ path, mode: stat.mode & 0o777, uid: stat.uid });
    if (stat.isDirectory()) found.push(...walk(path));
  }
  return found;
}
