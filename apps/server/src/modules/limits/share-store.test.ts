import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLimitEngine, type LimitEngine, type SoftAlert } from './engine.ts';
import { createMemoryStore } from './memory-store.ts';
import type { LimitPolicy, LimitSubject } from './policy.ts';
import { createRedisStore } from './redis-store.ts';
import type { LimitStore } from './store.ts';
import { admitted, keyPolicy, scratchRedis, T0 } from './test-support.ts';

const log = pino({ level: 'silent' });
const redisUrl = process.env.MAAS_TEST_REDIS_URL || undefined;
const subject: LimitSubject = { orgId: 'org_s', projectId: 'prj_s', keyId: 'key_s', model: 'm1' };
const policy = (p: Partial<LimitPolicy>) => keyPolicy('org_s', 'key_s', p);

/** Counts the reserves that reach the shared store (round trips, on Redis). */
function counting(store: LimitStore): LimitStore & { reserves: number } {
  const counted = {
    ...store,
    reserves: 0,
    reserve(input: Parameters<LimitStore['reserve']>[0]) {
      if (!input.dryRun) counted.reserves += 1;
      return store.reserve(input);
    },
  };
  return counted;
}

interface Replica {
  engine: LimitEngine;
  store: { reserves: number };
  alerts: SoftAlert[];
}

interface Harness {
  clock: { now: number };
  /** a replica: its own engine and shares over the shared counters */
  replica(): Replica;
}

const redis = redisUrl ? scratchRedis(redisUrl) : undefined;
afterAll(() => redis?.cleanup());

function replicaOn(base: LimitStore, clock: { now: number }): Replica {
  const store = counting(base);
  const alerts: SoftAlert[] = [];
  const engine = createLimitEngine({
    log,
    store,
    shareRequests: 32,
    clock: () => clock.now,
    leaseMs: 60_000,
    failOpen: false,
    onAlerts: (a) => alerts.push(...a),
  });
  return { engine, store, alerts };
}

const stores: [string, () => Harness][] = [
  [
    'memory',
    () => {
      const clock = { now: T0 };
      const shared = createMemoryStore();
      return { clock, replica: () => replicaOn(shared, clock) };
    },
  ],
];
if (redis) {
  stores.push([
    'redis',
    () => {
      const clock = { now: T0 };
      const keyPrefix = redis.prefix();
      return { clock, replica: () => replicaOn(createRedisStore(redis.connect(), keyPrefix), clock) };
    },
  ]);
}

describe.each(stores)('local shares of the %s counters', (_name, make) => {
  it('admits a run of requests with one shared reserve per share, headers counting down', async () => {
    const { replica } = make();
    const { engine, store } = replica();
    const p = [policy({ rpm: 100_000, tpm: 1_000_000_000, maxConcurrent: 10_000 })];
    const remaining: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await engine.admit(subject, { tokens: 100 }, p);
      remaining.push(Number(r.ok && r.headers['x-ratelimit-remaining-requests']));
      await engine.settle(admitted(r), { tokens: 40, cost: 0 });
    }
    expect(store.reserves).toBe(4); // 33 requests per share
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => 100_000 - 1 - i));
    await engine.flush();
    const usage = await engine.usage(p[0]!);
    // what the shares did not use went back: the counters hold exactly what was used
    expect(usage.states.map((s) => s.used)).toEqual([100, 4000, 0]);
  });

  it('never admits more than the limit across replicas, and hands out every unit', async () => {
    const { replica } = make();
    const a = replica();
    const b = replica();
    const p = [policy({ rpm: 5_000 })];
    const results = await Promise.all(
      Array.from({ length: 6_000 }, (_, i) => (i % 2 ? b : a).engine.admit(subject, { tokens: 1 }, p)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5_000);
    expect(results.find((r) => !r.ok)).toMatchObject({ code: 'rate_limit_exceeded' });
    // far fewer round trips than requests
    expect(a.store.reserves + b.store.reserves).toBeLessThan(2_500);
    await Promise.all(
      results
        .filter((r) => r.ok)
        .map((r, i) => (i % 2 ? b : a).engine.settle(admitted(r), { tokens: 1, cost: 0 })),
    );
    await Promise.all([a.engine.flush(), b.engine.flush()]);
    expect((await a.engine.usage(p[0]!)).states[0]!.used).toBe(5_000);
  });

  it('gives back the unused part of a share when it ends, and takes a new one in a new sub-bucket', async () => {
    const { replica, clock } = make();
    const { engine, store } = replica();
    const other = replica();
    const p = [policy({ rpm: 100_000 })];
    await engine.settle(admitted(await engine.admit(subject, { tokens: 1 }, p)), { tokens: 1, cost: 0 });
    // another replica sees the share as used until it ends
    expect((await other.engine.usage(p[0]!)).states[0]!.used).toBe(33);
    clock.now += 1_000;
    const second = admitted(await engine.admit(subject, { tokens: 1 }, p));
    expect(store.reserves).toBe(2);
    await engine.settle(second, { tokens: 1, cost: 0 });
    await engine.flush();
    expect((await other.engine.usage(p[0]!)).states[0]!.used).toBe(2);
  });

  it('counts a share taken for a request that waited in the sub-bucket current then', async () => {
    const { replica, clock } = make();
    const { engine, store } = replica();
    const p = [policy({ rpm: 100_000 })];
    // they arrive in one sub-bucket; their shares are taken in the next one
    const pending = Array.from({ length: 100 }, () => engine.admit(subject, { tokens: 1 }, p));
    clock.now += 1_000;
    const results = await Promise.all(pending);
    expect(results.every((r) => r.ok)).toBe(true);
    // a share counted in the ended sub-bucket would admit one request and end at once
    expect(store.reserves).toBe(4);
  });

  it('charges quota usage when a share settles, and raises the soft alert once', async () => {
    const { replica } = make();
    const { engine, alerts } = replica();
    const p = [policy({ tokenQuota: 1_000_000_000, quotaPeriod: 'month', softThreshold: 0.5 })];
    for (let i = 0; i < 10; i++) {
      const r = admitted(await engine.admit(subject, { tokens: 1_000 }, p));
      // the request's own settle raises nothing: its share does, with every request's usage in it
      expect(await engine.settle(r, { tokens: 60_000_000, cost: 0 })).toEqual([]);
    }
    await engine.flush();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ metric: 'tokens', limit: 1_000_000_000, threshold: 0.5 });
    expect(alerts[0]!.used).toBeGreaterThanOrEqual(500_000_000);
    const usage = await engine.usage(p[0]!);
    expect(usage.states[0]).toMatchObject({ used: 600_000_000, reserved: 0 });
  });

  it('reuses a share’s concurrency slots as requests end, and frees them all when it ends', async () => {
    const { replica } = make();
    const { engine, store } = replica();
    const p = [policy({ maxConcurrent: 1_000 })];
    for (let round = 0; round < 4; round++) {
      const held = await Promise.all(
        Array.from({ length: 5 }, () => engine.admit(subject, { tokens: 1 }, p)),
      );
      await Promise.all(held.map((r) => engine.settle(admitted(r), { tokens: 1, cost: 0 })));
    }
    expect(store.reserves).toBe(1); // 16 slots (1 + 1/64 of the room), reused after each round
    await engine.flush();
    expect((await engine.usage(p[0]!)).states[0]!.used).toBe(0);
  });

  it('reserves request by request where a limit leaves little room (no shares)', async () => {
    const { replica } = make();
    const { engine, store } = replica();
    const p = [policy({ rpm: 100, tokenQuota: 1_000_000_000 })];
    for (let i = 0; i < 10; i++) admitted(await engine.admit(subject, { tokens: 1 }, p));
    expect(store.reserves).toBe(10);
  });
});
