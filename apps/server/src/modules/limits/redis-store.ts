import type { Redis } from 'ioredis';
import { BATCH_LUA } from './redis-scripts.ts';
import {
  bucketOf,
  type CheckState,
  type LimitStore,
  type PeriodSeed,
  type ReserveInput,
  type ReserveOutput,
  type SettleInput,
  type SettleOutput,
} from './store.ts';

type ScriptFn = (numKeys: number, ...args: string[]) => Promise<number[]>;

interface ScriptedRedis {
  maasLimitBatch: ScriptFn;
}

type Operation =
  | {
      kind: 'reserve';
      input: ReserveInput;
      resolve: (out: ReserveOutput) => void;
      reject: (e: unknown) => void;
    }
  | {
      kind: 'settle';
      input: SettleInput;
      resolve: (out: SettleOutput) => void;
      reject: (e: unknown) => void;
    };

interface Queue {
  /** the batch in flight, if any */
  flight: Promise<void> | undefined;
  waiting: Operation[];
  /** how many of the waiting operations are reserves */
  reserves: number;
  /** a settle waiting for company (see SETTLE_WAIT_MS) */
  timer: NodeJS.Timeout | undefined;
}

/** Operations of one org in one script call at most (bounds how long one script holds Redis). */
const MAX_BATCH = 64;
/**
 * How long a settle waits for a reserve to travel with when nothing is in flight. A settle only
 * gives back what a request held (its concurrency slot, the unused part of its reservation), so
 * holding it a few milliseconds longer never admits too much; under steady traffic it then costs
 * no round trip of its own.
 */
const SETTLE_WAIT_MS = 5;

/**
 * The shared store: counters are exact across replicas because every change runs inside one Lua
 * script (EVALSHA through ioredis' defineCommand, which falls back to EVAL when the script is not
 * cached yet). `prefix` namespaces every key (tests use a random one).
 *
 * Operations are batched per org, one script of an org in flight at a time: a reserve is sent at
 * once when none is (no added latency when idle), otherwise it goes when that one returns, with
 * every operation that arrived meanwhile, in arrival order; a settle waits for a reserve to go with
 * (SETTLE_WAIT_MS at most). A batch costs Redis little more than one operation did (see
 * redis-scripts.ts), so under load the cost per request falls with the batch.
 */
export function createRedisStore(redis: Redis, prefix = 'maas:lim:'): LimitStore {
  const scripted = redis as unknown as Partial<ScriptedRedis>;
  if (!scripted.maasLimitBatch) redis.defineCommand('maasLimitBatch', { lua: BATCH_LUA });
  const r = redis as unknown as ScriptedRedis;
  const queues = new Map<string, Queue>();

  function submit(group: string, op: Operation): void {
    let q = queues.get(group);
    if (!q) {
      q = { flight: undefined, waiting: [], reserves: 0, timer: undefined };
      queues.set(group, q);
    }
    q.waiting.push(op);
    if (op.kind === 'reserve') q.reserves++;
    kick(group, q);
  }

  /** With nothing in flight: a waiting reserve goes at once, settles alone wait for company. */
  function kick(group: string, q: Queue): void {
    if (q.flight) return;
    if (q.reserves > 0) send(group, q);
    else if (q.waiting.length > 0) q.timer ??= setTimeout(sendWaiting, SETTLE_WAIT_MS, group, q).unref();
    else if (!q.timer) queues.delete(group);
  }

  function sendWaiting(group: string, q: Queue): void {
    q.timer = undefined;
    if (!q.flight && q.waiting.length > 0) send(group, q);
  }

  function send(group: string, q: Queue): void {
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    const batch = q.waiting.length <= MAX_BATCH ? q.waiting : q.waiting.slice(0, MAX_BATCH);
    q.waiting = batch === q.waiting ? [] : q.waiting.slice(MAX_BATCH);
    q.reserves = 0;
    for (const op of q.waiting) if (op.kind === 'reserve') q.reserves++;
    let encoded: { keys: string[]; args: string[] };
    try {
      encoded = encode(group, batch);
    } catch (err) {
      fail(batch, err);
      kick(group, q);
      return;
    }
    const { keys, args } = encoded;
    q.flight = r
      .maasLimitBatch(keys.length, ...keys, ...args)
      .then(
        (out) => {
          try {
            decode(batch, out);
          } catch (err) {
            fail(batch, err);
          }
        },
        (err: unknown) => fail(batch, err),
      )
      .finally(() => {
        q.flight = undefined;
        kick(group, q);
      });
  }

  /** Sends every waiting operation and resolves when no batch is in flight (used at shutdown). */
  async function flush(): Promise<void> {
    while (queues.size > 0) {
      const flights: Promise<void>[] = [];
      for (const [group, q] of queues) {
        if (!q.flight && q.waiting.length > 0) send(group, q);
        if (q.flight) flights.push(q.flight);
      }
      if (flights.length === 0) return;
      await Promise.all(flights);
    }
  }

  /** Rejects every operation of the batch not answered yet (an answered one keeps its answer). */
  function fail(batch: Operation[], err: unknown): void {
    for (const op of batch) op.reject(err);
  }

  function encode(group: string, batch: Operation[]): { keys: string[]; args: string[] } {
    const keys = [`${prefix}{${group}}:leases`, `${prefix}{${group}}:leasedata`];
    const index = new Map<string, number>();
    const ref = (key: string) => {
      let i = index.get(key);
      if (i === undefined) {
        i = keys.push(`${prefix}${key}`);
        index.set(key, i);
      }
      return i;
    };
    const args: string[] = [];
    for (const op of batch) {
      if (op.kind === 'reserve') {
        const { input } = op;
        const checks: unknown[] = [];
        for (const c of input.checks) {
          if (c.kind === 'window') {
            const field = String(bucketOf(input.nowMs, c.bucketMs));
            checks.push(['w', c.limit, c.amount, c.bucketMs, c.buckets, 0, ref(c.key), field]);
          } else {
            checks.push([c.kind === 'period' ? 'p' : 'c', c.limit, c.amount, 0, 0, c.expireAtMs, ref(c.key)]);
          }
        }
        const expiry = input.nowMs + input.leaseMs;
        args.push(JSON.stringify(['r', input.nowMs, input.id, expiry, input.dryRun ? 1 : 0, checks]));
      } else {
        const { input } = op;
        const windows: unknown[] = [];
        for (const w of input.windows) {
          windows.push([ref(w.key), String(w.bucket), w.bucketMs, w.buckets, w.delta]);
        }
        const periods: unknown[] = [];
        for (const p of input.periods) {
          const alert = ref(`${p.key}:alert:${p.softAt}`);
          periods.push([ref(p.key), alert, p.amount, p.softAt, p.expireAtMs]);
        }
        args.push(JSON.stringify(['s', input.nowMs, input.id, windows, periods]));
      }
    }
    return { keys, args };
  }

  function decode(batch: Operation[], out: number[]): void {
    let at = 0;
    for (const op of batch) {
      if (op.kind === 'reserve') {
        const ok = Number(out[at]) === 1;
        const states: CheckState[] = [];
        for (let i = 0; i < op.input.checks.length; i++) {
          const o = at + 1 + i * 5;
          states.push({
            used: Number(out[o]),
            reserved: Number(out[o + 1]),
            fits: Number(out[o + 2]) === 1,
            resetMs: Number(out[o + 3]),
            retryMs: Number(out[o + 4]),
          });
        }
        at += 1 + op.input.checks.length * 5;
        op.resolve({ ok, states });
      } else {
        const used: number[] = [];
        const crossed: boolean[] = [];
        for (let i = 0; i < op.input.periods.length; i++) {
          used.push(Number(out[at + i * 2]));
          crossed.push(Number(out[at + i * 2 + 1]) === 1);
        }
        at += op.input.periods.length * 2;
        op.resolve({ used, crossed });
      }
    }
  }

  return {
    kind: 'redis',

    reserve(input: ReserveInput): Promise<ReserveOutput> {
      return new Promise((resolve, reject) =>
        submit(input.group, { kind: 'reserve', input, resolve, reject }),
      );
    },

    settle(input: SettleInput): Promise<SettleOutput> {
      return new Promise((resolve, reject) =>
        submit(input.group, { kind: 'settle', input, resolve, reject }),
      );
    },

    flush,

    async seed(_nowMs: number, seeds: readonly PeriodSeed[]): Promise<void> {
      const pipeline = redis.pipeline();
      for (const s of seeds) {
        if (s.used <= 0) continue;
        pipeline.hsetnx(`${prefix}${s.key}`, 'used', Math.round(s.used));
        if (s.expireAtMs > 0) pipeline.pexpireat(`${prefix}${s.key}`, s.expireAtMs);
      }
      await pipeline.exec();
    },
  };
}
