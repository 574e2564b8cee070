import { spawn } from 'node:child_process';
import { closeSync, fchmodSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Launch, runtimeEnv } from '@maas/contracts/agent';

/** What the agent writes beside a running runtime so a restarted agent can pick it up. */
export interface RuntimeRecord {
  replica_id: string;
  pid: number;
  /** the kernel's start time of the process (Linux), to tell a reused pid apart */
  start_ticks: string | null;
  port: number;
  health_path: string;
  api_path: string;
  started_at: string;
}

const RECORD = 'runtime.json';
export const LOG_FILE = 'runtime.log';

function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the recorded process still the one we started? */
export function isAlive(record: Pick<RuntimeRecord, 'pid' | 'start_ticks'>): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (record.start_ticks === null) return true;
  const now = startTicks(record.pid);
  return now === null || now === record.start_ticks;
}

export interface Spawned {
  record: RuntimeRecord;
  /** resolves with the exit code (or signal) when this agent started the process; adopted ones are polled */
  exited: Promise<string> | null;
}

/** The replica's work directory, owner-only whatever the umask (it holds logs and the runtime's state). */
export async function ownerOnlyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Starts the runtime in its own process group, detached from the agent, with stdout and stderr
 * appended to `<dir>/runtime.log` (0600), and records it in `<dir>/runtime.json` (0600). It outlives
 * the agent. Its environment is allow-listed (../env-policy.ts): never the agent's own secrets.
 */
export async function spawnRuntime(dir: string, replicaId: string, launch: Launch): Promise<Spawned> {
  await ownerOnlyDir(dir);
  const fd = openSync(join(dir, LOG_FILE), 'a', 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    fchmodSync(fd, 0o600);
    child = spawn(launch.command, launch.args, {
      cwd: dir,
      env: runtimeEnv(process.env, launch.env, { MAAS_REPLICA_ID: replicaId }),
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    child.once('error', (err) => resolve(`error: ${err.message}`));
  });
  if (child.pid === undefined) {
    return {
      record: {
        replica_id: replicaId,
        pid: -1,
        start_ticks: null,
        port: launch.port,
        health_path: launch.healthPath,
        api_path: launch.apiPath,
        started_at: new Date().toISOString(),
      },
      exited,
    };
  }
  child.unref();
  const record: RuntimeRecord = {
    replica_id: replicaId,
    pid: child.pid,
    start_ticks: startTicks(child.pid),
    port: launch.port,
    health_path: launch.healthPath,
    api_path: launch.apiPath,
    started_at: new Date().toISOString(),
  };
  await writeFile(join(dir, RECORD), JSON.stringify(record), { mode: 0o600 });
  await chmod(join(dir, RECORD), 0o600);
  return { record, exited };
}

export async function readRecord(dir: string): Promise<RuntimeRecord | null> {
  try {
    return JSON.parse(await readFile(join(dir, RECORD), 'utf8')) as RuntimeRecord;
  } catch {
    return null;
  }
}

export async function forgetRecord(dir: string): Promise<void> {
  await rm(join(dir, RECORD), { force: true });
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopProcess(
  record: Pick<RuntimeRecord, 'pid' | 'start_ticks'>,
  graceMs = 10_000,
): Promise<void> {
  if (record.pid <= 0 || !isAlive(record)) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-record.pid, sig);
    } catch {
      try {
        process.kill(record.pid, sig);
      } catch {}
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(record)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  signal('SIGKILL');
  while (isAlive(record)) await new Promise((r) => setTimeout(r, 20));
}
