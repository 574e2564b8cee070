import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_OUTBOUND_ALLOW } from './server-harness.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface SpawnedServer {
  /** e.g. `http://127.0.0.1:43121`, from the `maas is serving` log line */
  url: string;
  child: ChildProcess;
  /** every stdout and stderr line so far, for failure messages */
  output: string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  /** give up waiting for `maas is serving` after this long (default 60 s) */
  timeoutMs?: number;
}

/**
 * Starts `maas serve` as a child process (`node --import tsx apps/cli/src/bin.ts serve`) with the
 * given environment on top of this one, and resolves once it logs that it is serving. Pass
 * `MAAS_PORT=0` and `MAAS_LOG_LEVEL=info` (the URL is read from the JSON log line).
 */
export function spawnServer(env: Record<string, string>, opts: SpawnOptions = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/cli/src/bin.ts', 'serve'], {
    cwd: repoRoot,
    env: { MAAS_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (graceMs = 5_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<SpawnedServer>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      void stop(0);
      reject(new Error(`maas serve ${why}\n${output.slice(-30).join('\n')}`));
    };
    const timer = setTimeout(
      () => fail(`did not start within ${opts.timeoutMs ?? 60_000} ms`),
      opts.timeoutMs ?? 60_000,
    );
    const onLine = (line: string) => {
      output.push(line);
      const url = servingUrl(line);
      if (url) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ url, child, output, stop });
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited (${signal ?? code}) before serving`);
    child.once('exit', onExit);
    readLines(child.stdout!, onLine);
    readLines(child.stderr!, (line) => output.push(line));
  });
}

function servingUrl(line: string): string | null {
  if (!line.startsWith('{')) return null;
  try {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return entry.msg === 'maas is serving' && entry.url ? entry.url : null;
  } catch {
    return null;
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  });
}

/**
 * `spawnServer` again on a data directory whose previous server was just killed: PGlite's directory
 * lock goes stale some seconds after its holder died, so starts are retried until `waitMs`.
 */
export async function respawnServer(
  env: Record<string, string>,
  { waitMs = 45_000, everyMs = 1_000 }: { waitMs?: number; everyMs?: number } = {},
): Promise<SpawnedServer> {
  const started = Date.now();
  for (;;) {
    try {
      return await spawnServer(env);
    } catch (err) {
      if (Date.now() - started > waitMs) throw err;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
