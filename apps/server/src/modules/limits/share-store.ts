import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  bucketOf,
  type CheckState,
  type LimitStore,
  type PeriodCharge,
  type ReserveInput,
  type ReserveOutput,
  type SettleInput,
  type SettleOutput,
  type StoreCheck,
  type WindowAdjust,
} from './store.ts';

/**
 * Local shares of shared counters: instead of one round trip to Redis per request, a replica
 * reserves room for the next few requests of the same counters in one reserve (the share), admits
 * them from it in process, and gives back what it did not use when the share ends.
 *
 * Never more than the limit: every unit a replica admits from is counted in the shared store
 * before it is used, so the shared counters stay exact across replicas. A window's share is
 * counted in the sub-bucket that is current when it is taken and admits only until that sub-bucket
 * ends (a unit used later would leave the window early). What sharing costs is the other way: room
 * one replica holds and has not used yet is not available to the others until its share ends. That
 * room is bounded: a share takes at most 1/`headroomDivisor` of what a counter has left and lives at
 * most `lifetimeMs` (then its unused part goes back as soon as its requests have settled); a
 * counter with little room left (a small limit, or one nearly spent) gets no shares, so its requests
 * are reserved one by one as before.
 */
export interface ShareOptions {
  /** most requests a share covers beyond the one that takes it (default 32; 0 turns sharing off) */
  requests?: number;
  /** fewest extra requests worth a share (default 4) */
  minRequests?: number;
  /** a share takes at most this fraction's inverse of a counter's remaining room (default 64) */
  headroomDivisor?: number;
  /** longest a share admits, in ms (default 1000) */
  lifetimeMs?: number;
  clock?: () => number;
  log: Logger;
  /** a share's settle (its requests' usage, charged at once) crossed soft thresholds */
  onSettled?: (periodChecks: StoreCheck[], out: SettleOutput) => void;
}

interface Share {
  id: string;
  group: string;
  checks: StoreCheck[];
  /** per check: units the shared store counts for this share */
  granted: number[];
  /** per check: units used from it (windows: amounts, net of settles; periods: in flight + charged; concurrency: in flight) */
  taken: number[];
  /** per period check: usage its requests settled */
  charged: number[];
  softAt: number[];
  /** the states the store answered when the share was taken */
  base: CheckState[];
  takenAtMs: number;
  endsAtMs: number;
  inflight: number;
  retired: boolean;
}

interface Waiter {
  input: ReserveInput;
  resolve: (out: ReserveOutput | Promise<ReserveOutput>) => void;
  reject: (err: unknown) => void;
}

interface Held {
  share: Share;
  amounts: number[];
}

/** What one request adds to a check (a concurrency slot is one). */
const unit = (c: StoreCheck) => (c.kind === 'concurrency' ? 1 : c.amount);

function signature(input: ReserveInput): string {
  let sig = input.group;
  for (const c of input.checks) sig += `\n${c.key}\t${c.limit}`;
  return sig;
}

export function createShareStore(inner: LimitStore, opts: ShareOptions): LimitStore {
  const maxRequests = opts.requests ?? 32;
  if (maxRequests <= 0) return inner;
  const minRequests = opts.minRequests ?? 4;
  const divisor = opts.headroomDivisor ?? 64;
  const lifetimeMs = opts.lifetimeMs ?? 1000;
  const clock = opts.clock ?? Date.now;
  /**
   * The share each set of counters admits from now, found by its first counter's key and then
   * matched check by check (no string is built per request on this path).
   */
  const current = new Map<string, Share[]>();

  /** every share not settled yet (current or retired with requests in flight) */
  const open = new Set<Share>();
  /** requests admitted from a share, until they settle */
  const held = new Map<string, Held>();
  /** while a share is taken for a set of counters, the requests that wait for it */
  const waiting = new Map<string, Waiter[]>();
  /** what each counter had left after the last reserve (sizes the next share) */
  const room = new Map<string, { limit: number; free: number }>();
  const closing = new Set<Promise<void>>();

  const sweeper = setInterval(() => sweep(clock()), Math.max(50, Math.floor(lifetimeMs / 4)));
  sweeper.unref();

  function currentShare(checks: StoreCheck[]): Share | undefined {
    const list = current.get(checks[0]!.key);
    if (!list) return undefined;
    outer: for (const share of list) {
      if (share.checks.length !== checks.length) continue;
      for (let i = 0; i < checks.length; i++) {
        const a = share.checks[i]!;
        const b = checks[i]!;
        if (a.key !== b.key || a.limit !== b.limit) continue outer;
      }
      return share;
    }
    return undefined;
  }

  function setCurrent(share: Share): void {
    const first = share.checks[0]!.key;
    const list = current.get(first);
    if (list) list.push(share);
    else current.set(first, [share]);
  }

  function unsetCurrent(share: Share): void {
    const first = share.checks[0]!.key;
    const list = current.get(first);
    const at = list ? list.indexOf(share) : -1;
    if (at < 0) return;
    if (list!.length === 1) current.delete(first);
    else list!.splice(at, 1);
  }

  function remember(checks: StoreCheck[], states: CheckState[]): void {
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      const s = states[i];
      if (s) room.set(c.key, { limit: c.limit, free: c.limit - s.used - s.reserved });
    }
    if (room.size > 100_000) room.clear();
  }

  /** How many requests like this one a share may cover (0: none). */
  function shareSize(checks: StoreCheck[]): number {
    let n = maxRequests;
    for (const c of checks) {
      const a = unit(c);
      if (a <= 0) continue;
      const known = room.get(c.key);
      const free = known && known.limit === c.limit ? known.free : c.limit;
      n = Math.min(n, Math.floor(free / (divisor * a)));
    }
    return n >= minRequests ? n : 0;
  }

  function fits(share: Share, checks: StoreCheck[]): boolean {
    for (let i = 0; i < checks.length; i++) {
      if (share.granted[i]! - share.taken[i]! < unit(checks[i]!)) return false;
    }
    return true;
  }

  function take(share: Share, input: ReserveInput, nowMs: number): ReserveOutput {
    const amounts: number[] = [];
    const states: CheckState[] = [];
    for (let i = 0; i < input.checks.length; i++) {
      const a = unit(input.checks[i]!);
      amounts.push(a);
      share.taken[i]! += a;
      const b = share.base[i]!;
      // the shared figures as of the share, less what this replica has not used of it yet
      const unused = share.granted[i]! - share.taken[i]!;
      const period = share.checks[i]!.kind === 'period';
      states.push({
        used: period ? b.used : b.used - unused,
        reserved: period ? b.reserved - unused : 0,
        fits: true,
        resetMs: Math.max(0, b.resetMs - (nowMs - share.takenAtMs)),
        retryMs: 0,
      });
    }
    share.inflight += 1;
    held.set(input.id, { share, amounts });
    return { ok: true, states };
  }

  function retire(share: Share): void {
    share.retired = true;
    unsetCurrent(share);
    if (share.inflight === 0) close(share);
  }

  /** Gives back what the share did not use and charges what its requests used, in one settle. */
  function close(share: Share): void {
    if (!open.delete(share)) return;
    const windows: WindowAdjust[] = [];
    const periods: PeriodCharge[] = [];
    const periodChecks: StoreCheck[] = [];
    share.checks.forEach((c, i) => {
      if (c.kind === 'window') {
        const delta = share.taken[i]! - share.granted[i]!;
        if (delta !== 0) {
          const bucket = bucketOf(share.takenAtMs, c.bucketMs);
          windows.push({ key: c.key, bucket, bucketMs: c.bucketMs, buckets: c.buckets, delta });
        }
      } else if (c.kind === 'period') {
        periods.push({
          key: c.key,
          amount: share.charged[i]!,
          softAt: share.softAt[i]!,
          expireAtMs: c.expireAtMs,
        });
        periodChecks.push(c);
      }
    });
    const done = Promise.resolve()
      .then(() => inner.settle({ group: share.group, id: share.id, nowMs: clock(), windows, periods }))
      .then(
        (out) => {
          if (periodChecks.length > 0) opts.onSettled?.(periodChecks, out);
        },
        (err: unknown) =>
          opts.log.error({ err, org_id: share.group }, 'limit share settle failed; its lease will expire'),
      )
      .finally(() => closing.delete(done));
    closing.add(done);
  }

  function sweep(nowMs: number): void {
    for (const share of open) {
      if (!share.retired && nowMs >= share.endsAtMs) retire(share);
    }
  }

  /** Takes a share for this request and the next few like it; alone when no share fits. */
  function takeShare(input: ReserveInput, sig: string): ReserveOutput | Promise<ReserveOutput> {
    const n = shareSize(input.checks);
    if (n === 0) return reserveAlone(input);
    const id = randomUUID();
    const checks = input.checks.map((c) => ({ ...c, amount: unit(c) * (n + 1) }));
    waiting.set(sig, []);
    let gotShare = false;
    // now, not when the request arrived: a request that waited for an earlier share would
    // otherwise count this one in a sub-bucket that has ended already
    const nowMs = clock();
    return Promise.resolve()
      .then(() => inner.reserve({ ...input, nowMs, id, checks }))
      .then((out): ReserveOutput | Promise<ReserveOutput> => {
        remember(checks, out.states);
        if (!out.ok) return reserveAlone(input);
        gotShare = true;
        let endsAtMs = nowMs + lifetimeMs;
        for (const c of checks) {
          if (c.kind === 'window')
            endsAtMs = Math.min(endsAtMs, (bucketOf(nowMs, c.bucketMs) + 1) * c.bucketMs);
        }
        const share: Share = {
          id,
          group: input.group,
          checks,
          granted: checks.map((c) => c.amount),
          taken: checks.map(() => 0),
          charged: checks.map(() => 0),
          softAt: checks.map(() => 0),
          base: out.states,
          takenAtMs: nowMs,
          endsAtMs,
          inflight: 0,
          retired: false,
        };
        open.add(share);
        const before = currentShare(checks);
        if (before) retire(before);
        setCurrent(share);
        return take(share, input, nowMs);
      })
      .finally(() => serveWaiting(sig, !gotShare));
  }

  /**
   * The requests that waited for a share, in order: from the new share while it has room; the next
   * one that does not fit takes another share and the rest wait for that. After a failed share
   * (no room, or the store failed) each goes alone, side by side.
   */
  function serveWaiting(sig: string, alone: boolean): void {
    const queue = waiting.get(sig) ?? [];
    waiting.delete(sig);
    while (queue.length > 0) {
      const w = queue.shift()!;
      try {
        w.resolve(alone ? reserveAlone(w.input) : reserve(w.input));
      } catch (err) {
        w.reject(err);
      }
      const next = waiting.get(sig);
      if (next) {
        next.push(...queue);
        return;
      }
    }
  }

  function reserveAlone(input: ReserveInput): ReserveOutput | Promise<ReserveOutput> {
    const out = inner.reserve(input);
    if (out instanceof Promise)
      return out.then((o) => {
        remember(input.checks, o.states);
        return o;
      });
    remember(input.checks, out.states);
    return out;
  }

  function reserve(input: ReserveInput): ReserveOutput | Promise<ReserveOutput> {
    if (input.dryRun) return inner.reserve(input);
    const share = currentShare(input.checks);
    if (share) {
      const nowMs = clock();
      if (nowMs < share.endsAtMs && fits(share, input.checks)) return take(share, input, nowMs);
      retire(share);
    }
    const sig = signature(input);
    const queue = waiting.get(sig);
    if (queue) {
      // a share is being taken for these counters: it may have room for this request too
      return new Promise((resolve, reject) => queue.push({ input, resolve, reject }));
    }
    return takeShare(input, sig);
  }

  function settle(input: SettleInput): SettleOutput | Promise<SettleOutput> {
    const h = held.get(input.id);
    if (!h) return inner.settle(input);
    held.delete(input.id);
    const share = h.share;
    const index = (key: string) => share.checks.findIndex((c) => c.key === key);
    for (const w of input.windows) {
      const i = index(w.key);
      if (i >= 0) share.taken[i]! += w.delta;
    }
    for (const p of input.periods) {
      const i = index(p.key);
      if (i < 0) continue;
      share.taken[i]! += p.amount - h.amounts[i]!;
      share.charged[i]! += p.amount;
      share.softAt[i] = p.softAt;
    }
    share.checks.forEach((c, i) => {
      if (c.kind === 'concurrency') share.taken[i]! -= h.amounts[i]!;
    });
    share.inflight -= 1;
    if (share.retired && share.inflight === 0) close(share);
    // soft alerts are raised when the share settles, with every request's usage in it
    return { used: input.periods.map(() => 0), crossed: input.periods.map(() => false) };
  }

  return {
    kind: inner.kind,
    reserve,
    settle,
    seed: (nowMs, counters) => inner.seed(nowMs, counters),

    /** Ends every share (their unused room goes back), then flushes the store underneath. */
    async flush(): Promise<void> {
      while (waiting.size > 0) await new Promise((r) => setTimeout(r, 5));
      for (const share of [...open]) if (!share.retired) retire(share);
      await Promise.allSettled([...closing]);
      await inner.flush?.();
    },
  };
}
