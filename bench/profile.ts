import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.ts';
import { firstMessage, forkChild } from './lib/processes.ts';
import { printBudget } from './lib/profile-budget.ts';
import { SCENARIOS } from './lib/scenarios.ts';
import { maas, type Target } from './lib/targets.ts';

/**
 * npm run bench:profile [-- --scenario=chat-json --connections=50 --duration=10 --dir=bench/results/profiles --redis --system=baseline]
 * Runs maas (or the bare proxy) under load with --cpu-prof, leaves the .cpuprofile in --dir (open it
 * in Chrome DevTools) and prints the main thread's CPU per request by stage (bench/lib/profile-budget.ts).
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
    /** maas, or baseline: the bare Fastify + undici proxy, profiled alike */
    system: { type: 'string', default: 'maas' },
  },
});
const cpuProf = ['--cpu-prof', `--cpu-prof-dir=${args.dir}`];
const scenario = SCENARIOS.find((s) => s.name === args.scenario);
if (!scenario) throw new Error(`unknown scenario ${args.scenario}`);
const upstreamChild = forkChild(new URL('./lib/upstream-process.ts', import.meta.url).pathname);
const { url: upstream } = await firstMessage<{ url: string }>(upstreamChild);
const target: Target =
  args.system === 'baseline'
    ? await (async () => {
        const child = forkChild(new URL('./baseline-proxy.ts', import.meta.url).pathname, {
          env: { UPSTREAM_URL: upstream },
          execArgv: ['--import', 'tsx', ...cpuProf],
        });
        const { url } = await firstMessage<{ url: string }>(child);
        return {
          name: 'baseline',
          url: `${url}/v1`,
          headers: { authorization: 'Bearer sk-bench-upstream' },
          model: 'fake-chat',
          stop: () => child.stop(),
        };
      })()
    : await maas(
        'maas',
        {},
        {
          governance: args.governance !== 'off',
          redis: args.redis,
          execArgv: cpuProf,
          // the stages are told apart by source file, which the bundle's chunks do not name
          sources: true,
        },
      )(upstream);
const before = new Set(existsSync(args.dir) ? readdirSync(args.dir) : []);
const spec = {
  url: `${target.url}${scenario.path}`,
  headers: target.headers,
  body: scenario.body(target.model),
  connections: Number(args.connections),
};
await runLoad({ ...spec, durationS: 1 });
const m = await runLoad({ ...spec, durationS: Number(args.duration) });
console.log(
  `${args.system} ${scenario.name} c=${args.connections}: ${m.rps.toFixed(0)} rps, p50 ${m.p50_ms.toFixed(2)} ms`,
);
await target.stop();
await upstreamChild.stop();
// the main thread's profile (…-0.001-…; other threads write their own, the loader's among them)
const written = readdirSync(args.dir).filter((f) => !before.has(f) && /\.0\.\d+\.cpuprofile$/.test(f));
const main = written.sort()[0];
if (main) printBudget(join(args.dir, main), m.rps);
console.log(`profile written under ${args.dir}`);
