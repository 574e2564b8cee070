// The production build (`npm run build` → dist/maas.mjs, what `npm start` and the image run): built
// once here, then `maas serve` from it on a port of its own with a new data directory. What the bundle
// must still find from its own location: the PGlite worker and the migrations (a new database, ready),
// the console's build (or the page saying how to build it), the API docs' assets from node_modules.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, createApiClient } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../scripts/build-bundle.mjs';

const root = new URL('../../../', import.meta.url).pathname;
const bundle = join(root, 'dist/maas.mjs');

describe('the production bundle (dist/maas.mjs)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'maas-bundle-'));
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    await buildBundle();
  });

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function serving(): Promise<string> {
    for (let i = 0; i < 900; i++) {
      const line = output.split('\n').find((l) => l.includes('"maas is serving"'));
      if (line) return JSON.parse(line).url;
      if (child!.exitCode !== null) throw new Error(`maas serve exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`maas serve did not start:\n${output}`);
  }

  it('serves on a new data directory: ready, logs in, answers the admin API, the docs and /; stops on SIGTERM', async () => {
    expect(existsSync(bundle)).toBe(true);
    child = spawn(process.execPath, [bundle, 'serve'], {
      cwd: tmpdir(),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        MAAS_HOST: '127.0.0.1',
        MAAS_PORT: '0',
        MAAS_LOG_LEVEL: 'info',
        MAAS_DATA_DIR: join(dataDir, 'data'),
        MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
        MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', resolve));
    const url = await serving();

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: 'ok', migrations: 'ok' } });

    const admin = createApiClient(url);
    await admin.login('admin@localhost', ADMIN_PASSWORD);
    const projects = await admin.get('/api/v1/projects');
    expect(projects.status).toBe(200);
    expect(projects.body.data.map((p: { name: string }) => p.name)).toContain('default');
    const key = await admin.post('/api/v1/keys', {
      name: 'bundle',
      project_id: projects.body.data.find((p: { name: string }) => p.name === 'default').id,
      scopes: ['inference'],
    });
    expect(key.status).toBe(201);
    const models = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key.body.key}` } });
    expect(models.status).toBe(200);
    expect((await models.json()).object).toBe('list');

    const docs = await fetch(`${url}/docs/static/swagger-ui.css`);
    expect(docs.status).toBe(200);
    const page = await (await fetch(`${url}/`)).text();
    const consoleBuilt = existsSync(join(root, 'apps/console/dist/index.html'));
    expect(page.includes('The maas console is not built yet')).toBe(!consoleBuilt);

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
  }, 120_000);
});
