import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLimitEngine, type LimitEngine } from './engine.ts';
import { periodBounds } from './periods.ts';
import type { LimitPolicy, LimitSubject } from './policy.ts';
import { admitted, keyPolicy, scratchRedis, T0 } from './test-support.ts';

const log = pino({ level: 'silent' });
const redisUrl = process.env.MAAS_TEST_REDIS_URL || undefined;
const subject: LimitSubject = { orgId: 'org_a', projectId: 'prj_a', keyId: 'key_a', model: 'm1' };
const policy = (p: Partial<LimitPolicy>) => keyPolicy('org_a', 'key_a', p);

interface Harness {
  engine: LimitEngine;
  clock: { now: number };
  /** another replica on the same counters (its own Redis connection), when the store is shared */
  replica(): LimitEngine;
}

const redis = redisUrl ? scratchRedis(redisUrl) : undefined;
afterAll(() => redis?.cleanup());

const stores: [string, () => Harness][] = [
  [
    'memory',
    () => {
      const clock = { now: T0 };
      const engine = createLimitEngine({ log, clock: () => clock.now, leaseMs: 5_000 });
      return { engine, clock, replica: () => engine };
    },
  ],
];
if (redis) {
  stores.push([
    'redis',
    () => {
      const clock = { now: T0 };
      const keyPrefix = redis.prefix();
      const make = () =>
        createLimitEngine({
          log,
          redis: redis.connect(),
          keyPrefix,
          clock: () => clock.now,
          leaseMs: 5_000,
          failOpen: false,
        });
      return { engine: make(), clock, replica: make };
    },
  ]);
}

describe.each(stores)('limit engine on the %s store', (_name, make) => {
  it('admits everything and adds no headers when no policy applies', async () => {
    const { engine } = make();
    const r = await engine.admit(subject, { tokens: 10 }, []);
    expect(r).toMatchObject({ ok: true, headers: {} });
  });

  it('refuses the request past the RPM with OpenAI headers and a Retry-After that frees a slot', async () => {
    const { engine, clock } = make();
    const p = [policy({ rpm: 3 })];
    admitted(await engine.admit(subject, { tokens: 1 }, p));
    admitted(await engine.admit(subject, { tokens: 1 }, p));
    clock.now = T0 + 10_000;
    const third = await engine.admit(subject, { tokens: 1 }, p);
    expect(third.ok && third.headers).toMatchObject({
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1m1s',
    });
    clock.now = T0 + 20_000;
    const refused = await engine.admit(subject, { tokens: 1 }, p);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.code).toBe('rate_limit_exceeded');
    // the two requests of T0 leave the window 61 s after T0 (one sub-bucket of slack)
    expect(refused.retryAfterS).toBe(41);
    expect(refused.headers).toMatchObject({
      'retry-after': '41',
      'retry-after-ms': '41000',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '51s',
    });
    expect(refused.message).toMatch(
      /Rate limit reached for m1 on requests per minute \(RPM\).*Limit 3, Used 3/,
    );
    clock.now = T0 + 61_000;
    const again = await engine.admit(subject, { tokens: 1 }, p);
    expect(again.ok && again.headers['x-ratelimit-remaining-requests']).toBe('1');
  });

  it('counts tokens against the TPM and moves the reservation to the actual usage at settle', async () => {
    const { engine } = make();
    const p = [policy({ tpm: 1000 })];
    const first = await engine.admit(subject, { tokens: 600 }, p);
    expect(first.ok && first.headers['x-ratelimit-remaining-tokens']).toBe('400');
    const refused = await engine.admit(subject, { tokens: 500 }, p);
    expect(refused).toMatchObject({ ok: false, code: 'rate_limit_exceeded', retryAfterS: 61 });
    await engine.settle(admitted(first), { tokens: 100, cost: 0 });
    const second = await engine.admit(subject, { tokens: 500 }, p);
    expect(second.ok && second.headers['x-ratelimit-remaining-tokens']).toBe('400');
    // a second settle of the same reservation changes nothing
    await engine.settle(admitted(first), { tokens: 900, cost: 0 });
    const third = await engine.admit(subject, { tokens: 400 }, p);
    expect(third.ok && third.headers['x-ratelimit-remaining-tokens']).toBe('0');
  });

  it('refuses a request larger than the TPM without a Retry-After', async () => {
    const { engine } = make();
    const r = await engine.admit(subject, { tokens: 2000 }, [policy({ tpm: 1000 })]);
    expect(r).toMatchObject({ ok: false, code: 'rate_limit_exceeded', retryAfterS: null });
    expect(r.ok ? 'admitted' : r.headers['retry-after']).toBeUndefined();
    expect(!r.ok && r.message).toMatch(/Request too large/);
  });

  it('holds a concurrency slot until settle or release', async () => {
    const { engine } = make();
    const p = [policy({ maxConcurrent: 2 })];
    const a = admitted(await engine.admit(subject, { tokens: 1 }, p));
    const b = admitted(await engine.admit(subject, { tokens: 1 }, p));
    expect(await engine.admit(subject, { tokens: 1 }, p)).toMatchObject({ ok: false, retryAfterS: 1 });
    await engine.release(a);
    const c = admitted(await engine.admit(subject, { tokens: 1 }, p));
    await engine.settle(b, { tokens: 1, cost: 0 });
    admitted(await engine.admit(subject, { tokens: 1 }, p));
    expect((await engine.admit(subject, { tokens: 1 }, p)).ok).toBe(false);
    void c;
  });

  it('gives back the slot of a replica that never settles when its lease runs out', async () => {
    const { engine, clock } = make();
    const p = [policy({ maxConcurrent: 1, tokenQuota: 100, quotaPeriod: 'total' })];
    admitted(await engine.admit(subject, { tokens: 60 }, p));
    expect((await engine.admit(subject, { tokens: 60 }, p)).ok).toBe(false);
    clock.now += 5_001;
    const after = await engine.admit(subject, { tokens: 60 }, p);
    expect(after.ok).toBe(true);
  });

  it('starts quota and budget counters from the usage already metered, once', async () => {
    const { engine } = make();
    const p = policy({ tokenQuota: 100, quotaPeriod: 'month', budget: 1, budgetPeriod: 'month' });
    const asked: [number, number | null][] = [];
    await engine.seed(p, async (startMs, endMs) => {
      asked.push([startMs, endMs]);
      return { tokens: 90, cost: 0.5 };
    });
    expect(asked).toEqual([
      [periodBounds('month', T0).startMs, periodBounds('month', T0).endMs],
      [periodBounds('month', T0).startMs, periodBounds('month', T0).endMs],
    ]);
    expect(await engine.admit(subject, { tokens: 20 }, [p])).toMatchObject({
      ok: false,
      code: 'insufficient_quota',
    });
    const r = admitted(await engine.admit(subject, { tokens: 10, cost: 0.4 }, [p]));
    await engine.settle(r, { tokens: 10, cost: 0.4 });
    // a second seed finds counters in the store and leaves them as they are
    await engine.seed(p, async () => ({ tokens: 0, cost: 0 }));
    expect((await engine.admit(subject, { tokens: 1 }, [p])).ok).toBe(false);
    const budgetOnly = policy({ budget: 1, budgetPeriod: 'month', scopeId: 'key_b' });
    await engine.seed(budgetOnly, async () => ({ tokens: 0, cost: 0.95 }));
    const other = { ...subject, keyId: 'key_b' };
    expect(await engine.admit(other, { tokens: 1, cost: 0.1 }, [budgetOnly])).toMatchObject({
      ok: false,
      code: 'insufficient_quota',
    });
    expect((await engine.admit(other, { tokens: 1, cost: 0.04 }, [budgetOnly])).ok).toBe(true);
  });

  it('enforces a token quota per period with insufficient_quota until the period ends', async () => {
    const { engine, clock } = make();
    const p = [policy({ tokenQuota: 1000, quotaPeriod: 'day' })];
    const first = admitted(await engine.admit(subject, { tokens: 600 }, p));
    const refused = await engine.admit(subject, { tokens: 600 }, p);
    expect(refused).toMatchObject({ ok: false, code: 'insufficient_quota' });
    const end = periodBounds('day', clock.now).endMs!;
    expect(!refused.ok && refused.retryAfterS).toBe(Math.ceil((end - clock.now) / 1000));
    expect(!refused.ok && refused.message).toMatch(
      /token quota per day of key key_a is 1000 tokens; 0 used and 600 held/,
    );
    await engine.settle(first, { tokens: 300, cost: 0 });
    admitted(await engine.admit(subject, { tokens: 600 }, p));
    expect((await engine.admit(subject, { tokens: 101 }, p)).ok).toBe(false);
    clock.now = end + 1;
    admitted(await engine.admit(subject, { tokens: 1000 }, p));
  });

  it('enforces a money budget; a total quota that is spent has no Retry-After', async () => {
    const { engine } = make();
    const p = [policy({ budget: 1, budgetPeriod: 'total' })];
    const a = admitted(await engine.admit(subject, { tokens: 10, cost: 0.4 }, p));
    admitted(await engine.admit(subject, { tokens: 10, cost: 0.4 }, p));
    const refused = await engine.admit(subject, { tokens: 10, cost: 0.4 }, p);
    expect(refused).toMatchObject({ ok: false, code: 'insufficient_quota', retryAfterS: null });
    expect(!refused.ok && refused.message).toMatch(/total budget of key key_a is 1; 0 used and 0.8 held/);
    await engine.settle(a, { tokens: 10, cost: 0.15 });
    admitted(await engine.admit(subject, { tokens: 10, cost: 0.4 }, p));
  });

  it('never lets concurrent requests overshoot a budget', async () => {
    const { engine, replica } = make();
    const other = replica();
    const p = [policy({ budget: 1, budgetPeriod: 'month' })];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? other : engine).admit(subject, { tokens: 1, cost: 0.1 }, p),
      ),
    );
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(10);
    await Promise.all(ok.map((r) => engine.settle(admitted(r), { tokens: 1, cost: 0.1 })));
    expect((await engine.admit(subject, { tokens: 1, cost: 0.000001 }, p)).ok).toBe(false);
    // a request whose price is not known is refused once the budget is spent
    expect((await engine.admit(subject, { tokens: 1 }, p)).ok).toBe(false);
  });

  it('reserves across key, project and org all or nothing', async () => {
    const { engine } = make();
    const keyPolicy = policy({ scope: 'key', scopeId: 'key_a', rpm: 10, tpm: 10_000 });
    const orgPolicy = policy({ scope: 'org', scopeId: 'org_a', rpm: 2 });
    const p = [keyPolicy, orgPolicy];
    admitted(await engine.admit(subject, { tokens: 100 }, p));
    admitted(await engine.admit(subject, { tokens: 100 }, p));
    for (let i = 0; i < 5; i++) expect((await engine.admit(subject, { tokens: 100 }, p)).ok).toBe(false);
    const usage = await engine.usage(keyPolicy);
    expect(usage.states.map((s) => s.used)).toEqual([2, 200]);
    // the key's own counters were not charged for the refusals: it still has 8 requests
    const keyOnly = await Promise.all(
      Array.from({ length: 10 }, () => engine.admit(subject, { tokens: 1 }, [keyPolicy])),
    );
    expect(keyOnly.filter((r) => r.ok)).toHaveLength(8);
  });

  it('applies a per-model policy to that model only, alongside the all-models one', async () => {
    const { engine } = make();
    const p = [policy({ model: 'm1', rpm: 1 }), policy({ model: null, rpm: 3 })];
    const m1 = subject;
    const m2 = { ...subject, model: 'm2' };
    const only = (s: LimitSubject) => p.filter((x) => x.model === null || x.model === s.model);
    admitted(await engine.admit(m1, { tokens: 1 }, only(m1)));
    expect((await engine.admit(m1, { tokens: 1 }, only(m1))).ok).toBe(false);
    admitted(await engine.admit(m2, { tokens: 1 }, only(m2)));
    admitted(await engine.admit(m2, { tokens: 1 }, only(m2)));
    expect((await engine.admit(m2, { tokens: 1 }, only(m2))).ok).toBe(false);
  });

  it('raises a soft-threshold alert once per period', async () => {
    const { engine, replica } = make();
    const other = replica();
    const p = [policy({ tokenQuota: 1000, quotaPeriod: 'week', softThreshold: 0.8 })];
    const settleOn = async (e: LimitEngine, tokens: number) =>
      e.settle(admitted(await e.admit(subject, { tokens }, p)), { tokens, cost: 0 });
    expect(await settleOn(engine, 500)).toEqual([]);
    const alerts = await settleOn(other, 300);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      metric: 'tokens',
      period: 'week',
      limit: 1000,
      used: 800,
      threshold: 0.8,
    });
    expect(await settleOn(engine, 100)).toEqual([]);
    expect(await settleOn(other, 50)).toEqual([]);
  });

  // On Redis the two engines are two replicas, each with its own connection. The same check through two
  // `maas serve` processes waits for the gateway to call admitRequest.
  it('admits exactly 100 of 300 concurrent requests at 100 RPM', async () => {
    const { engine, replica } = make();
    const other = replica();
    const p = [policy({ rpm: 100 })];
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => (i % 2 ? other : engine).admit(subject, { tokens: 1 }, p)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(100);
    const refused = results.filter((r) => !r.ok);
    expect(refused.every((r) => !r.ok && r.code === 'rate_limit_exceeded' && r.retryAfterS === 61)).toBe(
      true,
    );
  });

  it('gives a slot back to the next request even when its settle was not awaited', async () => {
    const { engine, replica } = make();
    const p = [policy({ maxConcurrent: 1, tpm: 100 })];
    for (let i = 0; i < 5; i++) {
      const r = admitted(await engine.admit(subject, { tokens: 20 }, p));
      void engine.settle(r, { tokens: 5, cost: 0 });
    }
    // settles still waiting to be sent are sent before the next reserve, in order
    const last = await engine.admit(subject, { tokens: 20 }, p);
    expect(last.ok).toBe(true);
    expect(last.ok && last.headers['x-ratelimit-remaining-tokens']).toBe(String(100 - 5 * 5 - 20));
    // and flush sends what is left, so another replica sees the slot free at once
    void engine.settle(admitted(last), { tokens: 5, cost: 0 });
    await engine.flush();
    expect((await replica().admit(subject, { tokens: 1 }, p)).ok).toBe(true);
  });
});

describe.skipIf(!redisUrl)('limit engine on Redis, batching', () => {
  it('runs concurrent requests of one org in a few script calls, each with its own answer', async () => {
    const connection = redis!.connect();
    const keyPrefix = redis!.prefix();
    const engine = createLimitEngine({ log, redis: connection, keyPrefix, failOpen: false });
    const scripted = connection as unknown as { maasLimitBatch: (...args: unknown[]) => Promise<unknown> };
    const run = scripted.maasLimitBatch.bind(connection);
    let calls = 0;
    scripted.maasLimitBatch = (...args: unknown[]) => {
      calls++;
      return run(...args);
    };
    const p = [policy({ rpm: 30, tpm: 1_000, maxConcurrent: 100 })];
    const results = await Promise.all(
      Array.from({ length: 40 }, () => engine.admit(subject, { tokens: 10 }, p)),
    );
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(30);
    // every admitted request saw its own place in the counters
    const remaining = ok
      .map((r) => Number(r.ok && r.headers['x-ratelimit-remaining-requests']))
      .sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(calls).toBeLessThanOrEqual(3);
    await Promise.all(ok.map((r) => r.ok && engine.settle(r.reservation, { tokens: 4, cost: 0 })));
    expect(calls).toBeLessThanOrEqual(4);
    const usage = await engine.usage(p[0]!);
    expect(usage.states.map((s) => s.used)).toEqual([30, 30 * 4, 0]);
  });
});

describe('limit engine when its Redis is unreachable', () => {
  const opened: Redis[] = [];
  afterAll(() => {
    for (const r of opened) r.disconnect();
  });
  const unreachable = () => {
    const r = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    r.on('error', () => {});
    opened.push(r);
    return r;
  };

  it('admits without limits by default (logged), so an outage does not stop traffic', async () => {
    const engine = createLimitEngine({ log, redis: unreachable() });
    const r = await engine.admit(subject, { tokens: 1 }, [policy({ rpm: 1 })]);
    expect(r).toMatchObject({ ok: true, headers: {} });
    expect(await engine.settle(admitted(r), { tokens: 1, cost: 0 })).toEqual([]);
  });

  it('throws instead when told to fail closed', async () => {
    const engine = createLimitEngine({ log, redis: unreachable(), failOpen: false });
    await expect(engine.admit(subject, { tokens: 1 }, [policy({ rpm: 1 })])).rejects.toThrow();
  });
});
