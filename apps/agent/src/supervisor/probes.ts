import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Command } from '../runtimes/types.ts';

/** Resolves after `ms` or when any of the signals aborts, whichever is first. */
export const sleep = (ms: number, ...signals: (AbortSignal | null)[]) =>
  new Promise<void>((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== null);
    const done = () => {
      clearTimeout(t);
      for (const s of live) s.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    for (const s of live) s.addEventListener('abort', done, { once: true });
  });

export async function healthy(port: number, path: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export function runOnce(cmd: Command, cwd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, {
      cwd,
      env: { ...process.env, ...cmd.env },
      stdio: 'ignore',
      timeout: timeoutMs,
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd.command} ${cmd.args[0] ?? ''} exited with ${code}`)),
    );
  });
}
