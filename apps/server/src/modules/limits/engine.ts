import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Held } from './holds.ts';
import { createMemoryStore } from './memory-store.ts';
import { checksOf, MONEY_SCALE, type PlannedCheck } from './plan.ts';
import type { LimitPolicy, LimitSubject, ResolvedPolicies } from './policy.ts';
import { headlineFigures, type LimitRejection, renderRateLimitHeaders } from './rate-limit-headers.ts';
import { createRedisStore } from './redis-store.ts';
import { explainRejection } from './rejection.ts';
import type { LimitPeriod } from './schema.ts';
import { createShareStore } from './share-store.ts';
import type {
  CheckState,
  LimitStore,
  PeriodCharge,
  ReserveOutput,
  SettleOutput,
  WindowAdjust,
} from './store.ts';

export interface Demand {
  /** prompt tokens plus `max_tokens` (or the model's default): the most this request can use */
  tokens: number;
  /** the most this request can cost, in the price currency; absent: not priced (budgets see it at settle) */
  cost?: number | undefined;
}

export interface ActualUsage {
  tokens: number;
  cost: number;
}

interface HeldPeriod {
  key: string;
  dim: 'token_quota' | 'budget';
  limit: number;
  policy: LimitPolicy;
  period: { name: LimitPeriod; startMs: number; endMs: number | null };
  expireAtMs: number;
}

/** What a successful admit holds until `settle` or `release`. Opaque to callers. */
export interface Reservation {
  readonly id: string;
  readonly subject: LimitSubject;
  readonly tokens: number;
  readonly costMicros: number;
  readonly windows: readonly { key: string; bucket: number; bucketMs: number; buckets: number }[];
  readonly periods: readonly HeldPeriod[];
  /** whether any counter was touched (nothing to settle otherwise) */
  readonly held: boolean;
  /** false once settled or released (a second settle does nothing) */
  open: boolean;
}

export type AdmitResult =
  | { ok: true; reservation: Reservation; headers: Record<string, string> }
  | LimitRejection;

/** A soft threshold crossed by a settle; raised once per policy, period and limit across replicas. */
export interface SoftAlert {
  policy: LimitPolicy;
  metric: 'tokens' | 'cost';
  period: LimitPeriod;
  periodStartMs: number;
  periodEndMs: number | null;
  /** in tokens, or money in the price currency */
  limit: number;
  used: number;
  threshold: number;
}

export interface LimitEngineDeps {
  /** shared counters (exact across replicas); absent: in process */
  redis?: Redis | undefined;
  clock?: () => number;
  log: Logger;
  /** Redis key prefix (tests use a random one) */
  keyPrefix?: string;
  /** how long a replica may hold a reservation before it is given back without a settle (default 15 min) */
  leaseMs?: number;
  /** admit when the store fails (default true: a Redis outage does not stop traffic; it is logged) */
  failOpen?: boolean;
  store?: LimitStore;
  /**
   * How many requests a local share of the counters may cover (see share-store.ts); default 32 on
   * Redis, 0 (every request reserved on its own) in process.
   */
  shareRequests?: number;
  /** soft alerts crossed outside a request's settle (when a share settles) */
  onAlerts?: (alerts: SoftAlert[]) => void;
}

export type LimitEngine = ReturnType<typeof createLimitEngine>;

/** Counters take whole, non-negative, finite amounts. */
const whole = (n: number, round: (x: number) => number) => (Number.isFinite(n) && n > 0 ? round(n) : 0);

// The helpers below run twice per request: plain loops, no closures (this is the hot path).

function reservationOf(
  subject: LimitSubject,
  tokens: number,
  costMicros: number,
  checks: PlannedCheck[],
  nowMs: number,
): Reservation {
  const windows: Reservation['windows'][number][] = [];
  const periods: HeldPeriod[] = [];
  for (const c of checks) {
    if (c.dim === 'tpm' || c.dim === 'tpd') {
      windows.push({
        key: c.key,
        bucket: Math.floor(nowMs / c.bucketMs),
        bucketMs: c.bucketMs,
        buckets: c.buckets,
      });
    } else if (c.dim === 'token_quota' || c.dim === 'budget') {
      periods.push({
        key: c.key,
        dim: c.dim,
        limit: c.limit,
        policy: c.policy,
        period: c.period!,
        expireAtMs: c.expireAtMs,
      });
    }
  }
  return {
    id: randomUUID(),
    subject,
    tokens,
    costMicros,
    windows,
    periods,
    held: checks.length > 0,
    open: true,
  };
}

/** The answer to a reserve: admitted with the x-ratelimit headers, or the refusal and why. */
function decide(
  checks: PlannedCheck[],
  reservation: Reservation,
  nowMs: number,
  result: ReserveOutput,
): AdmitResult {
  const figures = headlineFigures(checks, result.states);
  if (result.ok) return { ok: true, reservation, headers: renderRateLimitHeaders(figures) };
  const why = explainRejection(reservation.subject, checks, result.states, nowMs);
  return {
    ok: false,
    code: why.code,
    retryAfterS: why.retryAfterMs === null ? null : Math.max(1, Math.ceil(why.retryAfterMs / 1000)),
    headers: renderRateLimitHeaders({ ...figures, retryAfterMs: why.retryAfterMs }),
    message: why.message,
  };
}

/** The soft alerts a settle crossed, one per period charge that crossed its threshold first. */
function alertsOf(periods: readonly Omit<HeldPeriod, 'expireAtMs'>[], out: SettleOutput): SoftAlert[] {
  const alerts: SoftAlert[] = [];
  for (let i = 0; i < periods.length; i++) {
    if (!out.crossed[i]) continue;
    const p = periods[i]!;
    const money = p.dim === 'budget';
    const scale = money ? MONEY_SCALE : 1;
    alerts.push({
      policy: p.policy,
      metric: money ? 'cost' : 'tokens',
      period: p.period.name,
      periodStartMs: p.period.startMs,
      periodEndMs: p.period.endMs,
      limit: p.limit / scale,
      used: (out.used[i] ?? 0) / scale,
      threshold: p.policy.softThreshold ?? 0,
    });
  }
  return alerts;
}

function heldOf(c: PlannedCheck, held: (policy: LimitPolicy) => Held): number {
  const h = held(c.policy);
  return c.dim === 'budget' ? h.costMicros : h.tokens;
}

/** Settled usage at which a period's soft alert fires (0: none). */
function softAt(p: HeldPeriod): number {
  const t = p.policy.softThreshold;
  return t === null || t <= 0 ? 0 : Math.max(1, Math.ceil(p.limit * t));
}

export function createLimitEngine(deps: LimitEngineDeps) {
  const clock = deps.clock ?? Date.now;
  const leaseMs = deps.leaseMs ?? 15 * 60_000;
  const failOpen = deps.failOpen ?? true;
  const { log } = deps;
  const base =
    deps.store ?? (deps.redis ? createRedisStore(deps.redis, deps.keyPrefix) : createMemoryStore());
  // in process every reserve is a map lookup already; shares save the round trips to Redis
  const store = createShareStore(base, {
    requests: deps.shareRequests ?? (base.kind === 'redis' ? 32 : 0),
    clock,
    log,
    onSettled(periodChecks, out) {
      const periods = (periodChecks as PlannedCheck[]).map((c) => ({
        key: c.key,
        dim: c.dim as HeldPeriod['dim'],
        limit: c.limit,
        policy: c.policy,
        period: c.period!,
      }));
      const alerts = alertsOf(periods, out);
      if (alerts.length > 0) deps.onAlerts?.(alerts);
    },
  });

  /** Synchronous with the in-process store: a promise only when the counters live in Redis. */
  function admit(
    subject: LimitSubject,
    demand: Demand,
    policies: ResolvedPolicies,
    held?: (policy: LimitPolicy) => Held,
  ): AdmitResult | Promise<AdmitResult> {
    const tokens = whole(demand.tokens, Math.ceil);
    const costMicros = whole((demand.cost ?? 0) * MONEY_SCALE, Math.ceil);
    const nowMs = clock();
    const checks: PlannedCheck[] = [];
    for (const p of policies) for (const c of checksOf(p, tokens, costMicros, nowMs)) checks.push(c);
    const reservation = reservationOf(subject, tokens, costMicros, checks, nowMs);
    if (checks.length === 0) return { ok: true, reservation, headers: {} };
    // what others hold is not there to take (the reservation keeps the real limit for soft alerts)
    if (held)
      for (const c of checks) {
        if (c.kind !== 'period') continue;
        const h = Math.min(c.limit, heldOf(c, held));
        if (h <= 0) continue;
        c.heldByBatches = h;
        c.limit -= h;
      }
    let pending: ReserveOutput | Promise<ReserveOutput>;
    try {
      pending = store.reserve({ group: subject.orgId, id: reservation.id, nowMs, leaseMs, checks });
    } catch (err) {
      return reserveFailed(err, reservation);
    }
    if (pending instanceof Promise) {
      return pending.then(
        (result) => decide(checks, reservation, nowMs, result),
        (err: unknown) => reserveFailed(err, reservation),
      );
    }
    return decide(checks, reservation, nowMs, pending);
  }

  function reserveFailed(err: unknown, reservation: Reservation): AdmitResult {
    if (!failOpen) throw err;
    log.error({ err, org_id: reservation.subject.orgId }, 'limit store failed; admitting without limits');
    reservation.open = false;
    return { ok: true, reservation, headers: {} };
  }

  function settleFailed(err: unknown, reservation: Reservation): SoftAlert[] {
    log.error({ err, org_id: reservation.subject.orgId }, 'limit settle failed; the lease will expire');
    return [];
  }

  /**
   * Returns what the request reserved and charges what it used; yields the soft alerts it crossed.
   * Synchronous with the in-process store. Never throws.
   */
  function settle(reservation: Reservation, actual: ActualUsage): SoftAlert[] | Promise<SoftAlert[]> {
    if (!reservation.open) return [];
    reservation.open = false;
    if (!reservation.held) return [];
    const tokens = whole(actual.tokens, Math.round);
    const costMicros = whole(actual.cost * MONEY_SCALE, Math.round);
    const delta = tokens - reservation.tokens;
    const windows: WindowAdjust[] = [];
    for (const w of reservation.windows) {
      windows.push({ key: w.key, bucket: w.bucket, bucketMs: w.bucketMs, buckets: w.buckets, delta });
    }
    const periods: PeriodCharge[] = [];
    for (const p of reservation.periods) {
      periods.push({
        key: p.key,
        amount: p.dim === 'budget' ? costMicros : tokens,
        softAt: softAt(p),
        expireAtMs: p.expireAtMs,
      });
    }
    let pending: SettleOutput | Promise<SettleOutput>;
    try {
      pending = store.settle({
        group: reservation.subject.orgId,
        id: reservation.id,
        nowMs: clock(),
        windows,
        periods,
      });
    } catch (err) {
      return settleFailed(err, reservation);
    }
    if (pending instanceof Promise) {
      return pending.then(
        (out) => alertsOf(reservation.periods, out),
        (err: unknown) => settleFailed(err, reservation),
      );
    }
    return alertsOf(reservation.periods, pending);
  }

  /** The request did not run: gives back everything it reserved except its place in the request counts. */
  async function release(reservation: Reservation): Promise<void> {
    await settle(reservation, { tokens: 0, cost: 0 });
  }

  /**
   * Starts a policy's quota and budget counters of the current period from what was used in it
   * already (`usedIn` reads the metered usage), where the store holds nothing for them yet.
   */
  async function seed(
    policy: LimitPolicy,
    usedIn: (startMs: number, endMs: number | null) => Promise<{ tokens: number; cost: number }>,
  ): Promise<void> {
    const nowMs = clock();
    const periods = checksOf(policy, 0, 0, nowMs).filter((c) => c.kind === 'period' && c.period);
    if (periods.length === 0) return;
    const seeds = [];
    for (const c of periods) {
      const used = await usedIn(c.period!.startMs, c.period!.endMs);
      const amount =
        c.dim === 'budget' ? whole(used.cost * MONEY_SCALE, Math.round) : whole(used.tokens, Math.round);
      seeds.push({ key: c.key, used: amount, expireAtMs: c.expireAtMs });
    }
    await store.seed(nowMs, seeds);
  }

  /** Current figures of one policy's counters (reads only). */
  async function usage(
    policy: LimitPolicy,
  ): Promise<{ checks: PlannedCheck[]; states: CheckState[]; nowMs: number }> {
    const nowMs = clock();
    const checks = checksOf(policy, 0, 0, nowMs);
    if (checks.length === 0) return { checks, states: [], nowMs };
    const out = await store.reserve({
      group: policy.orgId,
      id: 'peek',
      nowMs,
      leaseMs,
      checks,
      dryRun: true,
    });
    return { checks, states: out.states, nowMs };
  }

  /** Sends settles the store still batches (shutdown: before its Redis connection closes). */
  async function flush(): Promise<void> {
    await store.flush?.();
  }

  return { admit, settle, release, seed, usage, flush, store };
}
