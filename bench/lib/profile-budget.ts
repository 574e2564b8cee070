import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

type Match = (fn: string, url: string) => boolean;

/**
 * The per-request stages, tried from a sample's leaf frame up: the first that matches gets the
 * sample (so undici's work under the usage reader counts as upstream read, a JSON.parse under the
 * adapter's readResponse as usage parsing).
 */
const STAGES: [string, Match][] = [
  ['usage parse', (f) => /^(readResponse|usageFromOpenAi|textOfChoices)$/.test(f)],
  ['auth', (_f, u) => /authenticate-key|verify-key|http\/authenticate/.test(u)],
  ['validate', (_f, u) => /validate-body|node_modules\/zod\//.test(u)],
  ['admit (limits)', (_f, u) => /gateway\/admit\.ts|modules\/limits\//.test(u)],
  ['metering', (_f, u) => /usage-record|modules\/metering\/|pglite-thread|drizzle-orm/.test(u)],
  ['metrics', (_f, u) => /prom-client|gateway-metrics|observability\/metrics/.test(u)],
  ['logging', (f, u) => /node_modules\/pino|@pinojs|lazy-child-logger/.test(u) || f === 'createChildLogger'],
  ['request id', (_f, u) => /request-id\.ts|request-context\.ts|src\/ids\.ts|node_modules\/ulid/.test(u)],
  [
    'route',
    (f, u) =>
      /choose-target|context-check|resolve-model|circuit-breaker|gateway\/adapters\//.test(u) ||
      /^(tryModel|route)$/.test(f),
  ],
  [
    'upstream write/read',
    (_f, u) => /node_modules\/undici|read-body|relay-json|relay-stream|gateway\/attempt\.ts/.test(u),
  ],
  [
    'response',
    (f, u) =>
      /^(Reply\.send|writePayload|onSendHook|onSendEnd|writeHead|Reply\.header|Reply\.headers)$/.test(f) ||
      /response-headers|rate-limit-headers/.test(u),
  ],
  [
    'parse (HTTP, JSON body)',
    (f, u) =>
      /secure-json-parse/.test(u) ||
      /^(defaultJsonParser|ContentTypeParser\.run|parserOnHeadersComplete|_addHeaderLine)$/.test(f),
  ],
  ['GC', (f) => f === '(garbage collector)'],
];
const OTHER = 'other (Fastify routing and hooks, Node http, event loop)';

/**
 * Prints the main thread's CPU per request by stage, over the last measured run of a profile
 * (the window: the run's length before the last HTTP request the process parsed).
 */
export function printBudget(file: string, rps: number, durationS?: number): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let t = p.startTime;
  const at = p.samples.map((_, i) => {
    t += p.timeDeltas[i] ?? 0;
    return t;
  });
  const parsing = new Set(
    p.nodes.filter((n) => n.callFrame.functionName === 'parserOnHeadersComplete').map((n) => n.id),
  );
  const inRequest = (id: number) => {
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) if (parsing.has(c)) return true;
    return false;
  };
  let last = 0;
  for (let i = p.samples.length - 1; i >= 0; i--)
    if (inRequest(p.samples[i]!)) {
      last = at[i]!;
      break;
    }
  const windowUs = (durationS ?? 9.5) * 1e6;
  const from = last - windowUs;
  const stages = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    if (at[i]! < from || at[i]! > last) continue;
    const dt = p.timeDeltas[i] ?? 0;
    const leaf = p.samples[i]!;
    if (byId.get(leaf)!.callFrame.functionName === '(idle)') continue;
    busy += dt;
    let stage = OTHER;
    search: for (let c: number | undefined = leaf; c !== undefined; c = parent.get(c)) {
      const { functionName, url } = byId.get(c)!.callFrame;
      for (const [name, match] of STAGES)
        if (match(functionName, url)) {
          stage = name;
          break search;
        }
    }
    stages.set(stage, (stages.get(stage) ?? 0) + dt);
  }
  const requests = (rps * windowUs) / 1e6;
  console.log(
    `main thread, last ${(windowUs / 1e6).toFixed(1)} s (~${Math.round(requests)} requests): ` +
      `${(busy / requests).toFixed(0)} µs of CPU per request`,
  );
  console.log('| stage | µs per request | share |\n|---|---|---|');
  for (const [name, us] of [...stages].sort((a, b) => b[1] - a[1]))
    console.log(`| ${name} | ${(us / requests).toFixed(1)} | ${((100 * us) / busy).toFixed(1)} % |`);
}

// `node --import tsx bench/lib/profile-budget.ts <file.cpuprofile> <rps> [seconds]`
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [file, rps, seconds] = process.argv.slice(2);
  if (!file || !rps) throw new Error('usage: profile-budget.ts <file.cpuprofile> <rps> [seconds]');
  printBudget(file, Number(rps), seconds ? Number(seconds) : undefined);
}
