import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { type Command, runtimeEnv } from '@maas/contracts/agent';

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

/** Where the agent reaches a runtime that binds `host`: the address itself, or loopback for a wildcard. */
export function probeHost(host: string): string {
  if (!host || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Does GET http://{host}:{port}{path} answer 2xx? Sends the replica credential when there is one. */
export async function healthy(
  port: number,
  path: string,
  opts: { host?: string; apiKey?: string | null; timeoutMs?: number } = {},
): Promise<boolean> {
  try {
    const res = await fetch(`http://${probeHost(opts.host ?? '')}:${port}${path}`, {
      headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
      signal: AbortSignal.timeout(opts.timeoutMs ?? 2_000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Why `host:port` cannot be listened on (`EADDRINUSE`, `EADDRNOTAVAIL` …), or null when it can. */
export function listenError(port: number, host: string): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}

export function runOnce(cmd: Command, cwd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, {
      cwd,
      env: runtimeEnv(process.env, cmd.env),
      stdio: 'ignore',
      timeout: timeoutMs,
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd.command} ${cmd.args[0] ?? ''} exited with ${code}`)),
    );
  });
}
