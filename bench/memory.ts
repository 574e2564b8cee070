import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.ts';
import { setUpMaas } from './lib/maas-setup.ts';
import { firstMessage, forkChild, freePort } from './lib/processes.ts';
import { SCENARIOS } from './lib/scenarios.ts';

/**
 * npm run bench:memory [-- --seconds=60 | --minutes=10] [--connections=50] [--out=bench/results/memory.json]
 *
 * Starts `maas serve` (the CLI, as an operator would: `node --import tsx apps/cli/src/bin.ts serve`)
 * on a new data directory, stops it, and starts it again on the now existing one. For each start:
 * the time from spawn to the first 200 from /readyz and the RSS right after (the process and its
 * threads: the embedded database runs on one). Then, on the existing directory, a load run against
 * the fake upstream (chat-json at --connections) sampling RSS every 5 s: a leak shows as growth over
 * the second half of the run.
 */
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    minutes: { type: 'string' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string', default: 'bench/results/memory.json' },
  },
});
const loadSeconds = args.minutes ? Number(args.minutes) * 60 : Number(args.seconds);
const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

/** Resident set size of a process (all its threads), MiB; null once it is gone. */
function rssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round((kb * 1024) / MiB) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  child: ChildProcess;
  url: string;
  readyMs: number;
  output(): string;
}

async function serve(dataDir: string, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps/cli/src/bin.ts'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      MAAS_LOG_LEVEL: 'warn',
      MAAS_OUTBOUND_ALLOW: '127.0.0.0/8',
      ...env,
      MAAS_HOST: '127.0.0.1',
      MAAS_PORT: String(port),
      MAAS_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`maas serve exited (${child.exitCode})\n${tail}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`maas serve not ready after 600 s\n${tail}`);
    await sleep(20);
  }
  return { child, url, readyMs: Math.round(performance.now() - t0), output: () => tail };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(hard);
}

/** RSS once the start settled (timers that run right after start, the first GC). */
async function settledRss(pid: number): Promise<number | null> {
  await sleep(3_000);
  return rssMiB(pid);
}

const dir = mkdtempSync(join(tmpdir(), 'maas-bench-memory-'));
const dataDir = join(dir, 'data');
const admin = { email: 'bench@localhost', password: randomBytes(12).toString('hex') };
const env = {
  MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
  MAAS_ADMIN_EMAIL: admin.email,
  MAAS_ADMIN_PASSWORD: admin.password,
};
const upstreamChild = forkChild(new URL('./lib/upstream-process.ts', import.meta.url).pathname);
try {
  const { url: upstream } = await firstMessage<{ url: string }>(upstreamChild);

  const fresh = await serve(dataDir, env);
  const freshRss = await settledRss(fresh.child.pid!);
  console.log(`new data dir:      ready in ${fresh.readyMs} ms, RSS ${freshRss} MiB`);
  await stop(fresh.child);

  const again = await serve(dataDir, env);
  const againRss = await settledRss(again.child.pid!);
  console.log(`existing data dir: ready in ${again.readyMs} ms, RSS ${againRss} MiB`);

  const setup = await setUpMaas(again.url, admin, `${upstream}/v1`, 'sk-bench-upstream');
  const scenario = SCENARIOS[0]!;
  const samples: { t_s: number; rss_mib: number | null }[] = [];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    samples.push({ t_s: Math.round((performance.now() - t0) / 1000), rss_mib: rssMiB(again.child.pid!) });
  }, 5_000);
  const load = await runLoad({
    url: `${again.url}/v1${scenario.path}`,
    headers: { authorization: `Bearer ${setup.key}` },
    body: scenario.body(setup.model),
    connections: Number(args.connections),
    durationS: loadSeconds,
  });
  clearInterval(sampler);
  const afterLoad = rssMiB(again.child.pid!);
  await stop(again.child);

  const values = samples.map((s) => s.rss_mib).filter((v): v is number => v !== null);
  const half = values.slice(Math.floor(values.length / 2));
  const growth = half.length > 1 ? half.at(-1)! - half[0]! : null;
  console.log(
    `load ${scenario.name} c=${args.connections} ${loadSeconds} s: ${load.rps} rps (${load.non2xx} non-2xx, ${load.errors} errors); ` +
      `RSS ${values[0]} → ${afterLoad} MiB, max ${Math.max(...values)} MiB, over the second half ${growth === null ? 'n/a' : `${growth >= 0 ? '+' : ''}${growth} MiB`}`,
  );
  const result = {
    generated_at: new Date().toISOString(),
    node: process.version,
    new_data_dir: { ready_ms: fresh.readyMs, rss_mib: freshRss },
    existing_data_dir: { ready_ms: again.readyMs, rss_mib: againRss },
    load: {
      scenario: scenario.name,
      connections: Number(args.connections),
      seconds: loadSeconds,
      rps: load.rps,
      non2xx: load.non2xx,
      errors: load.errors,
      rss_after_mib: afterLoad,
      rss_max_mib: Math.max(...values),
      second_half_growth_mib: growth,
      samples,
    },
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${args.out}`);
} finally {
  await upstreamChild.stop();
  rmSync(dir, { recursive: true, force: true });
}
