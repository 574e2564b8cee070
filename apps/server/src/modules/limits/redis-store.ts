import type { Redis } from 'ioredis';
import { RESERVE_LUA, SETTLE_LUA } from './redis-scripts.ts';
import type {
  CheckState,
  LimitStore,
  PeriodSeed,
  ReserveInput,
  ReserveOutput,
  SettleInput,
  SettleOutput,
} from './store.ts';

type ScriptFn = (numKeys: number, ...args: (string | number)[]) => Promise<number[]>;

interface ScriptedRedis {
  maasLimitReserve: ScriptFn;
  maasLimitSettle: ScriptFn;
}

/**
 * The shared store: one Lua call per reserve and per settle (EVALSHA through ioredis' defineCommand,
 * which falls back to EVAL when the script is not cached yet), so counters are exact across replicas.
 * `prefix` namespaces every key (tests use a random one).
 */
export function createRedisStore(redis: Redis, prefix = 'maas:lim:'): LimitStore {
  const scripted = redis as unknown as Partial<ScriptedRedis>;
  if (!scripted.maasLimitReserve) redis.defineCommand('maasLimitReserve', { lua: RESERVE_LUA });
  if (!scripted.maasLimitSettle) redis.defineCommand('maasLimitSettle', { lua: SETTLE_LUA });
  const r = redis as unknown as ScriptedRedis;
  const leaseKeys = (group: string) => [`${prefix}{${group}}:leases`, `${prefix}{${group}}:leasedata`];
  const k = (key: string) => `${prefix}${key}`;

  return {
    kind: 'redis',

    async reserve(input: ReserveInput): Promise<ReserveOutput> {
      const keys = [...leaseKeys(input.group), ...input.checks.map((c) => k(c.key))];
      const args: (string | number)[] = [
        input.nowMs,
        input.id,
        input.nowMs + input.leaseMs,
        input.dryRun ? 1 : 0,
      ];
      for (const c of input.checks) {
        const kind = c.kind === 'window' ? 'w' : c.kind === 'period' ? 'p' : 'c';
        args.push(`${kind} ${c.limit} ${c.amount} ${c.bucketMs} ${c.buckets} ${c.expireAtMs}`);
      }
      const out = await r.maasLimitReserve(keys.length, ...keys, ...args);
      const states: CheckState[] = input.checks.map((_, i) => {
        const o = 1 + i * 5;
        return {
          used: Number(out[o]),
          reserved: Number(out[o + 1]),
          fits: Number(out[o + 2]) === 1,
          resetMs: Number(out[o + 3]),
          retryMs: Number(out[o + 4]),
        };
      });
      return { ok: Number(out[0]) === 1, states };
    },

    async settle(input: SettleInput): Promise<SettleOutput> {
      const keys = [
        ...leaseKeys(input.group),
        ...input.windows.map((w) => k(w.key)),
        ...input.periods.map((p) => k(p.key)),
        ...input.periods.map((p) => k(`${p.key}:alert:${p.softAt}`)),
      ];
      const args: (string | number)[] = [input.nowMs, input.id, input.windows.length, input.periods.length];
      for (const w of input.windows) args.push(`${w.bucket} ${w.bucketMs} ${w.buckets} ${w.delta}`);
      for (const p of input.periods) args.push(`${p.amount} ${p.softAt} ${p.expireAtMs}`);
      const out = await r.maasLimitSettle(keys.length, ...keys, ...args);
      return {
        used: input.periods.map((_, i) => Number(out[i * 2])),
        crossed: input.periods.map((_, i) => Number(out[i * 2 + 1]) === 1),
      };
    },

    async seed(_nowMs: number, seeds: readonly PeriodSeed[]): Promise<void> {
      const pipeline = redis.pipeline();
      for (const s of seeds) {
        if (s.used <= 0) continue;
        pipeline.hsetnx(k(s.key), 'used', Math.round(s.used));
        if (s.expireAtMs > 0) pipeline.pexpireat(k(s.key), s.expireAtMs);
      }
      await pipeline.exec();
    },
  };
}
