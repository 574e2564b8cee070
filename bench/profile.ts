import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.ts';
import { firstMessage, forkChild } from './lib/processes.ts';
import { SCENARIOS } from './lib/scenarios.ts';
import { maas } from './lib/targets.ts';

/**
 * npm run bench:profile [-- --scenario=chat-json --connections=50 --duration=10 --dir=bench/results/profiles --redis]
 * Runs maas under load with --cpu-prof and leaves the .cpuprofile in --dir (open it in Chrome DevTools).
 */
const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'chat-json' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    dir: { type: 'string', default: 'bench/results/profiles' },
    governance: { type: 'string', default: 'on' },
    /** limits in Redis (MAAS_BENCH_REDIS_URL or the local one) instead of in process */
    redis: { type: 'boolean', default: false },
  },
});
const scenario = SCENARIOS.find((s) => s.name === args.scenario);
if (!scenario) throw new Error(`unknown scenario ${args.scenario}`);
const upstreamChild = forkChild(new URL('./lib/upstream-process.ts', import.meta.url).pathname);
const { url: upstream } = await firstMessage<{ url: string }>(upstreamChild);
const target = await maas(
  'maas',
  {},
  {
    governance: args.governance !== 'off',
    redis: args.redis,
    execArgv: ['--import', 'tsx', '--cpu-prof', `--cpu-prof-dir=${args.dir}`],
  },
)(upstream);
const spec = {
  url: `${target.url}${scenario.path}`,
  headers: target.headers,
  body: scenario.body(target.model),
  connections: Number(args.connections),
};
await runLoad({ ...spec, durationS: 1 });
const m = await runLoad({ ...spec, durationS: Number(args.duration) });
console.log(
  `maas ${scenario.name} c=${args.connections}: ${m.rps.toFixed(0)} rps, p50 ${m.p50_ms.toFixed(2)} ms`,
);
await target.stop();
await upstreamChild.stop();
console.log(`profile written under ${args.dir}`);
