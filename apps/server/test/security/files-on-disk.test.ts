import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createApiClient, spawnServer } from '@maas/testkit';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * A real `maas serve` on embedded defaults (PGlite, generated secret key, the in-process agent):
 * nothing it writes under its data directory can be read by another user of the machine.
 */
const roots: string[] = [];
afterAll(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

/** Every path under `dir` (itself included) whose mode gives group or others any access. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) found.push(`${path} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

describe('files on disk', () => {
  it('keeps the data directory, database, secret key and agent files owner-only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'maas-files-'));
    roots.push(root);
    const dataDir = join(root, 'data');
    // a data directory left world-readable by an older version or a careless mkdir is tightened
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const server = await spawnServer(
      {
        NODE_ENV: 'development',
        MAAS_HOST: '127.0.0.1',
        MAAS_PORT: '0',
        MAAS_DATA_DIR: dataDir,
        MAAS_SECRET_KEY: '',
        MAAS_ADMIN_EMAIL: ADMIN_EMAIL,
        MAAS_ADMIN_PASSWORD: ADMIN_PASSWORD,
        MAAS_LOG_LEVEL: 'info',
        MAAS_LOCAL_AGENT: 'true',
        MAAS_USAGE_SPOOL_DIR: join(dataDir, 'spool'),
      },
      { timeoutMs: 90_000 },
    );
    try {
      const admin = createApiClient(server.url);
      await admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
      expect((await admin.post('/api/v1/projects', { name: 'written' })).status).toBe(201);
    } finally {
      await server.stop();
    }
    const names = readdirSync(dataDir);
    expect(names).toEqual(expect.arrayContaining(['pgdata', 'secret.key']));
    expect(lstatSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(openToOthers(dataDir)).toEqual([]);
    // Another user of the machine (nobody) can read none of it, whatever the root above allows.
    chmodSync(root, 0o755);
    if (process.getuid?.() === 0 && existsSync('/usr/bin/setpriv')) {
      for (const file of ['secret.key', 'pgdata/PG_VERSION', 'pgdata/global/pg_control']) {
        const asNobody = spawnSync(
          '/usr/bin/setpriv',
          ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', join(dataDir, file)],
          { encoding: 'utf8' },
        );
        expect(asNobody.status, file).not.toBe(0);
        expect(asNobody.stderr, file).toMatch(/Permission denied/);
      }
    }
  }, 120_000);
});
