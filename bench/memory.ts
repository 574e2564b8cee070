import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildBundle } from '../apps/cli/scripts/build-bundle.mjs';
import { runLoad } from './lib/load.ts';
import { setUpMaas } from './lib/maas-setup.ts';
import { firstMessage, forkChild, freePort } from './lib/processes.ts';
import { SCENARIOS } from './lib/scenarios.ts';

/**
 * npm run bench:memory [-- --variants=tsx,bundle] [--starts=3] [--seconds=60 | --minutes=10]
 *   [--connections=50] [--out=bench/results/memory.json]
 *
 * Starts `maas serve` as an operator does, once per variant: `tsx` (the CLI's sources under tsx's
 * loader, `node --import tsx apps/cli/src/bin.ts serve`) and `bundle` (the production build,
 * `node dist/maas.mjs serve`, built first). Each variant starts once on a new data directory, then
 * --starts times on the now existing one. For each start: the time from spawn to the first 200 from
 * /readyz, the CPU time the process had used by then (all threads; a new directory's initdb runs in
 * a process of its own, not counted) and the RSS 3 s later (the process and its threads: the
 * embedded database runs on one); medians over the starts on the existing directory. Then, on the
 * last variant's existing directory, a load run against the fake upstream (chat-json at
 * --connections; --seconds=0 skips it) sampling RSS every 5 s: a leak shows as growth over the
 * second half of the run.
 */
const { values: args } = parseArgs({
  options: {
    variants: { type: 'string', default: 'tsx,bundle' },
    starts: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '60' },
    minutes: { type: 'string' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string', default: 'bench/results/memory.json' },
  },
});
const loadSeconds = args.minutes ? Number(args.minutes) * 60 : Number(args.seconds);
const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

const COMMANDS: Record<string, string[]> = {
  tsx: ['--import', 'tsx', join(root, 'apps/cli/src/bin.ts'), 'serve'],
  bundle: [join(root, 'dist/maas.mjs'), 'serve'],
};
const variants = args.variants.split(',').map((v) => v.trim());
for (const v of variants) if (!COMMANDS[v]) throw new Error(`unknown variant ${v} (tsx, bundle)`);

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

/** CPU time (user + system, all threads) a process has used so far, ms. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)]!;
};

interface Started {
  child: ChildProcess;
  url: string;
  readyMs: number;
  /** CPU time the process had used when it was ready: what the start costs, whatever the load */
  readyCpuMs: number | null;
  output(): string;
}

async function serve(command: string[], dataDir: string, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, command, {
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
  const readyMs = Math.round(performance.now() - t0);
  return { child, url, readyMs, readyCpuMs: cpuMs(child.pid!), output: () => tail };
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

interface StartFigures {
  ready_ms: number;
  ready_cpu_ms: number | null;
  rss_mib: number | null;
}
interface VariantFigures {
  new_data_dir: StartFigures;
  existing_data_dir: {
    ready_ms: number | null;
    ready_cpu_ms: number | null;
    rss_mib: number | null;
    starts: StartFigures[];
  };
}

const dir = mkdtempSync(join(tmpdir(), 'maas-bench-memory-'));
const admin = { email: 'bench@localhost', password: randomBytes(12).toString('hex') };
const env = {
  MAAS_SECRET_KEY: randomBytes(32).toString('hex'),
  MAAS_ADMIN_EMAIL: admin.email,
  MAAS_ADMIN_PASSWORD: admin.password,
};
if (variants.includes('bundle')) await buildBundle();
const upstreamChild = forkChild(new URL('./lib/upstream-process.ts', import.meta.url).pathname);
try {
  const { url: upstream } = await firstMessage<{ url: string }>(upstreamChild);
  const figures: Record<string, VariantFigures> = {};
  let last: { command: string[]; dataDir: string } | undefined;
  for (const variant of variants) {
    const command = COMMANDS[variant]!;
    const dataDir = join(dir, variant);
    const fresh = await serve(command, dataDir, env);
    const freshRss = await settledRss(fresh.child.pid!);
    console.log(
      `${variant}, new data dir:      ready in ${fresh.readyMs} ms (${fresh.readyCpuMs} ms CPU), RSS ${freshRss} MiB`,
    );
    await stop(fresh.child);
    const starts: StartFigures[] = [];
    for (let i = 0; i < Number(args.starts); i++) {
      const again = await serve(command, dataDir, env);
      const rss = await settledRss(again.child.pid!);
      console.log(
        `${variant}, existing data dir: ready in ${again.readyMs} ms (${again.readyCpuMs} ms CPU), RSS ${rss} MiB`,
      );
      starts.push({ ready_ms: again.readyMs, ready_cpu_ms: again.readyCpuMs, rss_mib: rss });
      await stop(again.child);
    }
    figures[variant] = {
      new_data_dir: { ready_ms: fresh.readyMs, ready_cpu_ms: fresh.readyCpuMs, rss_mib: freshRss },
      existing_data_dir: {
        ready_ms: median(starts.map((s) => s.ready_ms)),
        ready_cpu_ms: median(starts.flatMap((s) => (s.ready_cpu_ms === null ? [] : [s.ready_cpu_ms]))),
        rss_mib: median(starts.flatMap((s) => (s.rss_mib === null ? [] : [s.rss_mib]))),
        starts,
      },
    };
    last = { command, dataDir };
  }
  console.log(
    `\n| variant | new dir: RSS MiB | new dir: /readyz ms (CPU ms) | existing dir: RSS MiB | existing dir: /readyz ms (CPU ms) |`,
  );
  console.log('|---|---|---|---|---|');
  for (const [variant, f] of Object.entries(figures)) {
    const fresh = f.new_data_dir;
    const existing = f.existing_data_dir;
    console.log(
      `| ${variant} | ${fresh.rss_mib} | ${fresh.ready_ms} (${fresh.ready_cpu_ms}) | ${existing.rss_mib} | ${existing.ready_ms} (${existing.ready_cpu_ms}) |`,
    );
  }
  console.log(`existing dir: medians of ${args.starts} starts`);

  let load: Record<string, unknown> | null = null;
  if (loadSeconds > 0 && last) {
    const again = await serve(last.command, last.dataDir, env);
    const setup = await setUpMaas(again.url, admin, `${upstream}/v1`, 'sk-bench-upstream');
    const scenario = SCENARIOS[0]!;
    const samples: { t_s: number; rss_mib: number | null }[] = [];
    const t0 = performance.now();
    const sampler = setInterval(() => {
      samples.push({ t_s: Math.round((performance.now() - t0) / 1000), rss_mib: rssMiB(again.child.pid!) });
    }, 5_000);
    const run = await runLoad({
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
      `\n${variants.at(-1)}: load ${scenario.name} c=${args.connections} ${loadSeconds} s: ${run.rps} rps (${run.non2xx} non-2xx, ${run.errors} errors); ` +
        `RSS ${values[0]} → ${afterLoad} MiB, max ${Math.max(...values)} MiB, over the second half ${growth === null ? 'n/a' : `${growth >= 0 ? '+' : ''}${growth} MiB`}`,
    );
    load = {
      variant: variants.at(-1),
      scenario: scenario.name,
      connections: Number(args.connections),
      seconds: loadSeconds,
      rps: run.rps,
      non2xx: run.non2xx,
      errors: run.errors,
      rss_after_mib: afterLoad,
      rss_max_mib: Math.max(...values),
      second_half_growth_mib: growth,
      samples,
    };
  }
  const result = { generated_at: new Date().toISOString(), node: process.version, variants: figures, load };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${args.out}`);
} finally {
  await upstreamChild.stop();
  rmSync(dir, { recursive: true, force: true });
}
