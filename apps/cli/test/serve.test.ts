import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const children: ChildProcess[] = [];

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function serve(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/cli/src/bin.ts', 'serve'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MAAS_PORT: '0', MAAS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function listening(run: Run): Promise<string> {
  // a new data directory under tsx on a loaded 2-core machine can take well over 30 s
  for (let i = 0; i < 1200; i++) {
    const line = run
      .stdout()
      .split('\n')
      .find((l) => l.includes('"maas is serving"'));
    if (line) return JSON.parse(line).url;
    if (run.child.exitCode !== null) throw new Error(`exited: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('maas serve', () => {
  it('exits 2 with one clear line naming a bad variable', async () => {
    const run = serve({ MAAS_PORT: 'eighty', MAAS_DATA_DIR: mkdtempSync(join(tmpdir(), 'maas-')) });
    expect(await run.exited).toBe(2);
    expect(run.stderr().trim()).toMatch(/^maas: invalid MAAS_PORT: /);
    expect(run.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('starts on embedded PGlite, prints a generated password once, keeps data, refuses a second process, drains on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maas-'));
    const first = serve({ MAAS_DATA_DIR: dataDir });
    const url = await listening(first);
    const banner = first.stdout().match(/created owner admin@localhost with password (\S+)/);
    expect(banner).toBeTruthy();
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(true);
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@localhost', password: banner![1] }),
    });
    expect(login.status).toBe(200);
    expect(first.stdout()).not.toContain((await login.json()).access_token);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const second = serve({ MAAS_DATA_DIR: dataDir });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/data directory .* is in use by another maas process/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const again = serve({ MAAS_DATA_DIR: dataDir });
    const url2 = await listening(again);
    expect(again.stdout()).not.toContain('created owner');
    const relogin = await fetch(`${url2}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@localhost', password: banner![1] }),
    });
    expect(relogin.status).toBe(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 300_000); // three embedded servers start one after another: slow on a busy machine
});
