import type { Measurement } from './load.ts';

export interface Row extends Measurement {
  system: string;
  scenario: string;
  /** CPU time of the system's process per request (µs); null for `direct` or without /proc */
  cpu_us_per_request: number | null;
  /** CPU time per request (µs) of a server the system calls, not counted above (Redis for maas-redis); null for none */
  server_cpu_us_per_request: number | null;
  /** with --rounds above 1: every round's rps (the row is the median round's) */
  rounds_rps?: number[];
}

export interface SystemStatus {
  available: boolean;
  error?: string;
  /** scenarios that failed their pre-flight check, with the reason */
  skipped?: Record<string, string>;
}

/** `a` against `b` on every scenario and connection count both ran */
export interface Comparison {
  name: string;
  scenario: string;
  connections: number;
  rps_ratio: number;
  p50_ratio: number;
  p99_ratio: number;
  /** CPU per request, a over b (null when either has none) */
  cpu_ratio: number | null;
}

/** the pairs compared; a later governance on/off run adds e.g. ['maas', 'maas-governance-off'] */
export const COMPARISONS: [string, string][] = [
  ['maas', 'baseline'],
  ['maas', 'portkey'],
  ['maas', 'maas-no-governance'],
  ['maas-redis', 'maas-no-governance'],
  ['maas-distributed', 'maas'],
  ['maas-distributed', 'baseline'],
  ['baseline', 'direct'],
  ['portkey', 'direct'],
];

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : Number.NaN);

export function compare(rows: Row[], pairs = COMPARISONS): Comparison[] {
  const out: Comparison[] = [];
  for (const [a, b] of pairs) {
    for (const left of rows.filter((r) => r.system === a)) {
      const right = rows.find(
        (r) => r.system === b && r.scenario === left.scenario && r.connections === left.connections,
      );
      if (!right) continue;
      out.push({
        name: `${a}/${b}`,
        scenario: left.scenario,
        connections: left.connections,
        rps_ratio: ratio(left.rps, right.rps),
        p50_ratio: ratio(left.p50_ms, right.p50_ms),
        p99_ratio: ratio(left.p99_ms, right.p99_ms),
        cpu_ratio:
          left.cpu_us_per_request !== null && right.cpu_us_per_request !== null
            ? ratio(left.cpu_us_per_request, right.cpu_us_per_request)
            : null,
      });
    }
  }
  return out;
}

export interface AddedLatency {
  system: string;
  scenario: string;
  connections: number;
  added_p50_ms: number;
  added_p99_ms: number;
}

/** p50/p99 a system adds over calling the upstream directly, at one connection (no queueing) */
export function addedOverDirect(rows: Row[], connections = 1): AddedLatency[] {
  const out: AddedLatency[] = [];
  for (const row of rows) {
    if (row.system === 'direct' || row.connections !== connections) continue;
    const floor = rows.find(
      (r) => r.system === 'direct' && r.scenario === row.scenario && r.connections === connections,
    );
    if (!floor) continue;
    out.push({
      system: row.system,
      scenario: row.scenario,
      connections,
      added_p50_ms: Math.round((row.p50_ms - floor.p50_ms) * 1000) / 1000,
      added_p99_ms: Math.round((row.p99_ms - floor.p99_ms) * 1000) / 1000,
    });
  }
  return out;
}

const pad = (value: unknown, width: number) => String(value).padStart(width);

export function printRows(rows: Row[]): void {
  console.log(
    `\n${'system'.padEnd(10)} ${'scenario'.padEnd(12)} ${pad('conn', 4)} ${pad('rps', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} ${pad('non2xx', 6)} ${pad('errors', 6)} ${pad('cpu µs/req', 10)} ${pad('+server', 7)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.system.padEnd(10)} ${r.scenario.padEnd(12)} ${pad(r.connections, 4)} ${pad(r.rps.toFixed(0), 9)} ${pad(r.p50_ms.toFixed(2), 8)} ${pad(r.p99_ms.toFixed(2), 8)} ${pad(r.non2xx, 6)} ${pad(r.errors, 6)} ${pad(r.cpu_us_per_request === null ? '-' : r.cpu_us_per_request.toFixed(0), 10)} ${pad(r.server_cpu_us_per_request === null ? '-' : r.server_cpu_us_per_request.toFixed(0), 7)}`,
    );
  }
}

export function printComparisons(comparisons: Comparison[], added: AddedLatency[]): void {
  if (comparisons.length > 0) {
    console.log(
      `\n${'ratio'.padEnd(18)} ${'scenario'.padEnd(12)} ${pad('conn', 4)} ${pad('rps', 7)} ${pad('p50', 7)} ${pad('p99', 7)} ${pad('cpu', 7)}`,
    );
    for (const c of comparisons) {
      console.log(
        `${c.name.padEnd(18)} ${c.scenario.padEnd(12)} ${pad(c.connections, 4)} ${pad(c.rps_ratio.toFixed(2), 7)} ${pad(c.p50_ratio.toFixed(2), 7)} ${pad(c.p99_ratio.toFixed(2), 7)} ${pad(c.cpu_ratio === null ? '-' : c.cpu_ratio.toFixed(2), 7)}`,
      );
    }
  }
  if (added.length > 0) {
    console.log(`\nadded latency over direct upstream (1 connection)`);
    for (const a of added) {
      console.log(
        `${a.system.padEnd(10)} ${a.scenario.padEnd(12)} p50 +${a.added_p50_ms.toFixed(3)} ms   p99 +${a.added_p99_ms.toFixed(3)} ms`,
      );
    }
  }
}
