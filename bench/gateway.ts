import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildBundleIfStale } from '../apps/cli/scripts/build-bundle.mjs';
import { cpuTimeMs } from './lib/cpu-time.ts';
import { runLoad } from './lib/load.ts';
import { firstMessage, forkChild } from './lib/processes.ts';
import {
  addedOverDirect,
  compare,
  printComparisons,
  printRows,
  type Row,
  type SystemStatus,
} from './lib/report.ts';
import { SCENARIOS, type Scenario } from './lib/scenarios.ts';
import { SYSTEMS, type Target } from './lib/targets.ts';

/**
 * npm run bench:gateway [-- --duration=5 --warmup=2 --connections=1,50 --systems=direct,baseline,maas,portkey
 *                          --scenarios=chat-json,chat-stream --out=bench/results/gateway.json]
 *
 * Every system runs in its own process against the same fake upstream (its own process too); one
 * system is under load at a time; autocannon drives the load from this process.
 */
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    /** measurements per system, scenario and connection count; the median-rps one is reported */
    rounds: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '1,50' },
    systems: { type: 'string', default: Object.keys(SYSTEMS).join(',') },
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    out: { type: 'string', default: 'bench/results/gateway.json' },
  },
});
const durationS = Number(args.duration);
const rounds = Math.max(1, Number(args.rounds));
const warmupS = Number(args.warmup);
const connections = args.connections.split(',').map(Number);
const systemNames = args.systems.split(',').filter(Boolean);
const scenarios = SCENARIOS.filter((s) => args.scenarios.split(',').includes(s.name));
for (const name of systemNames) if (!SYSTEMS[name]) throw new Error(`unknown system ${name}`);

const NOTES = [
  'latency is per complete response (a stream ends at [DONE]), from autocannon per-response timings',
  'portkey: its SSE reader sleeps 25 ms before relaying the first chunk (by design), which dominates its stream figures at 1 connection',
  'portkey runs with a preload that binds it to 127.0.0.1 and gives it mutable fetch headers on Node 20 (bench/lib/portkey-preload.ts)',
];

/** one real request, so we never benchmark error pages */
async function preflight(target: Target, scenario: Scenario): Promise<string | undefined> {
  try {
    const res = await fetch(`${target.url}${scenario.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...target.headers },
      body: scenario.body(target.model),
    });
    return scenario.check(res.status, await res.text());
  } catch (error) {
    return String(error);
  }
}

async function measure(target: Target, scenario: Scenario, c: number): Promise<Row> {
  const spec = {
    url: `${target.url}${scenario.path}`,
    headers: target.headers,
    body: scenario.body(target.model),
    connections: c,
  };
  if (warmupS > 0) await runLoad({ ...spec, durationS: warmupS });
  const cpuBefore = cpuTimeMs(target.pid);
  const serverBefore = (await target.serverCpuMs?.()) ?? null;
  const m = await runLoad({ ...spec, durationS });
  const cpuAfter = cpuTimeMs(target.pid);
  const serverAfter = (await target.serverCpuMs?.()) ?? null;
  const requests = m.requests;
  const perRequest = (before: number | null, after: number | null) =>
    before !== null && after !== null && requests > 0 ? ((after - before) * 1000) / requests : null;
  const cpu_us_per_request = perRequest(cpuBefore, cpuAfter);
  const server_cpu_us_per_request = perRequest(serverBefore, serverAfter);
  console.log(
    `  ${target.name} ${scenario.name} c=${c}: ${m.rps.toFixed(0)} rps, p50 ${m.p50_ms.toFixed(2)} ms, p99 ${m.p99_ms.toFixed(2)} ms${m.non2xx || m.errors ? `, ${m.non2xx} non-2xx, ${m.errors} errors` : ''}`,
  );
  return {
    system: target.name,
    scenario: scenario.name,
    ...m,
    cpu_us_per_request,
    server_cpu_us_per_request,
  };
}

/** The run with the median rps (its own latency and CPU figures), with every round's rps beside it. */
function medianRun(runs: Row[]): Row {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return runs.length === 1 ? median : { ...median, rounds_rps: runs.map((r) => r.rps) };
}

/** starts every system; one that cannot start is recorded as unavailable */
async function startSystems(upstream: string, systems: Record<string, SystemStatus>): Promise<Target[]> {
  const targets: Target[] = [];
  for (const name of systemNames) {
    try {
      targets.push(await SYSTEMS[name]!(upstream));
      systems[name] = { available: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      systems[name] = { available: false, error: message };
      const why = message.split('\n').filter((line) => /error/i.test(line))[0] ?? '';
      console.log(`  ${name}: unavailable — ${message.split('\n')[0]} ${why.trim()}`);
    }
  }
  return targets;
}

/**
 * Systems are measured interleaved (each scenario and connection count, every system in turn), so
 * drift in background load spreads over all of them instead of skewing one.
 */
async function measureAll(targets: Target[], systems: Record<string, SystemStatus>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const ready: Target[] = [];
    for (const target of targets) {
      const problem = await preflight(target, scenario);
      if (!problem) ready.push(target);
      else {
        const status = systems[target.name]!;
        status.skipped = { ...status.skipped, [scenario.name]: problem };
        console.log(`  ${target.name} ${scenario.name}: skipped — ${problem}`);
      }
    }
    for (const c of connections) {
      const runs = new Map<string, Row[]>(ready.map((t) => [t.name, []]));
      for (let round = 0; round < rounds; round++) {
        // every other round in reverse order, so no system always runs right after the same one
        const order = round % 2 === 0 ? ready : [...ready].reverse();
        for (const target of order) runs.get(target.name)!.push(await measure(target, scenario, c));
      }
      for (const target of ready) rows.push(medianRun(runs.get(target.name)!));
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  if (availableParallelism() < 4) {
    console.log(
      `note: ${availableParallelism()} CPUs shared by the load generator, the upstream and the system under test — compare ratios, not absolute figures`,
    );
  }
  if (systemNames.some((name) => name.startsWith('maas'))) await buildBundleIfStale();
  const upstreamChild = forkChild(fileURLToPath(new URL('./lib/upstream-process.ts', import.meta.url)));
  const { url: upstream } = await firstMessage<{ url: string }>(upstreamChild);
  console.log(`fake upstream at ${upstream}; ${durationS}s per run, connections ${connections.join(',')}`);
  const systems: Record<string, SystemStatus> = {};
  let rows: Row[] = [];
  try {
    const targets = await startSystems(upstream, systems);
    try {
      rows = await measureAll(targets, systems);
    } finally {
      for (const target of targets) await target.stop();
    }
  } finally {
    await upstreamChild.stop();
  }

  const comparisons = compare(rows);
  const added = addedOverDirect(rows);
  printRows(rows);
  printComparisons(comparisons, added);
  const report = {
    generated_at: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: `${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown'}`,
    load_average_1m: { before: loadBefore, after: loadavg()[0]! },
    settings: {
      duration_s: durationS,
      rounds,
      warmup_s: warmupS,
      connections,
      stream_chunks: 20,
      upstream_delays_ms: 0,
      maas_log_level: process.env.MAAS_LOG_LEVEL ?? 'warn',
    },
    systems,
    results: rows,
    comparisons,
    added_latency_over_direct: added,
    notes: NOTES,
    wall_s: Math.round((Date.now() - started) / 100) / 10,
  };
  await mkdir(dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${args.out} (${report.wall_s} s)`);
}

await main();
