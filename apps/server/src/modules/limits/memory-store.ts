import {
  bucketOf,
  type CheckState,
  type LimitStore,
  type PeriodSeed,
  type ReserveInput,
  type ReserveOutput,
  type SettleInput,
  type SettleOutput,
  type StoreCheck,
} from './store.ts';

interface WindowState {
  buckets: Map<number, number>;
  sum: number;
  /** lowest sub-bucket still counted */
  lo: number;
  /** newest sub-bucket written */
  hi: number;
  expireAtMs: number;
}

interface CounterState {
  fields: Map<string, number>;
  /** 0: never */
  expireAtMs: number;
}

interface Undo {
  key: string;
  field: string;
  amount: number;
}

interface Lease {
  expiresAtMs: number;
  undo: Undo[];
}

const GC_INTERVAL_MS = 60_000;

/**
 * The embedded store: the same algorithm as the Redis scripts, in process. Each call runs to the end
 * without awaiting, so a reserve is atomic on one event loop.
 */
export function createMemoryStore(): LimitStore {
  const windows = new Map<string, WindowState>();
  const counters = new Map<string, CounterState>();
  const alerts = new Map<string, number>();
  const leases = new Map<string, Map<string, Lease>>();
  let lastGc = 0;

  const counter = (key: string, nowMs: number): CounterState | undefined => {
    const c = counters.get(key);
    if (c && c.expireAtMs !== 0 && c.expireAtMs <= nowMs) {
      counters.delete(key);
      return undefined;
    }
    return c;
  };
  const field = (key: string, name: string, nowMs: number) => counter(key, nowMs)?.fields.get(name) ?? 0;
  const incr = (key: string, name: string, by: number, nowMs: number, expireAtMs: number) => {
    let c = counter(key, nowMs);
    if (!c) {
      c = { fields: new Map(), expireAtMs };
      counters.set(key, c);
    }
    const v = (c.fields.get(name) ?? 0) + by;
    // a field back at zero stays (as 0) until the next sweep: a concurrency slot or a reservation
    // comes and goes with every request, and making and dropping its Map each time is most of the cost
    c.fields.set(name, v > 0 ? v : 0);
    if (expireAtMs !== 0) c.expireAtMs = expireAtMs;
    return v;
  };

  /** Drops sub-buckets that left the window (those before `cutoff`); returns the live state (creating none). */
  const windowAt = (key: string, cutoff: number, nowMs: number): WindowState | undefined => {
    const w = windows.get(key);
    if (!w) return undefined;
    if (w.hi < cutoff || w.expireAtMs <= nowMs) {
      windows.delete(key);
      return undefined;
    }
    if (w.lo < cutoff) {
      for (const [i, v] of w.buckets) {
        if (i < cutoff) {
          w.sum -= v;
          w.buckets.delete(i);
        }
      }
      w.lo = cutoff;
    }
    return w;
  };

  const sweepLeases = (group: string, nowMs: number) => {
    const held = leases.get(group);
    if (!held) return;
    // Leases are kept in the order they were taken, and one engine gives them all the same length:
    // the first one still running ends the sweep (checking every lease would cost O(in flight) per request).
    for (const [id, lease] of held) {
      if (lease.expiresAtMs > nowMs) break;
      for (const u of lease.undo) incr(u.key, u.field, -u.amount, nowMs, 0);
      held.delete(id);
    }
    if (held.size === 0) leases.delete(group);
  };

  const isEmpty = (c: CounterState) => {
    for (const v of c.fields.values()) if (v > 0) return false;
    return true;
  };

  const gc = (nowMs: number) => {
    if (nowMs - lastGc < GC_INTERVAL_MS) return;
    lastGc = nowMs;
    for (const [k, w] of windows) if (w.expireAtMs <= nowMs) windows.delete(k);
    for (const [k, c] of counters) {
      if ((c.expireAtMs !== 0 && c.expireAtMs <= nowMs) || isEmpty(c)) counters.delete(k);
    }
    for (const [k, at] of alerts) if (at !== 0 && at <= nowMs) alerts.delete(k);
  };

  const inspect = (check: StoreCheck, nowMs: number): CheckState => {
    if (check.kind === 'window') {
      const idx = bucketOf(nowMs, check.bucketMs);
      const cutoff = idx - check.buckets;
      const w = windowAt(check.key, cutoff, nowMs);
      const sum = w?.sum ?? 0;
      const fits = sum + check.amount <= check.limit && sum < check.limit;
      const resetMs = w ? (w.hi + check.buckets + 1) * check.bucketMs - nowMs : 0;
      let retryMs = 0;
      if (!fits) {
        retryMs = -1;
        if (check.amount <= check.limit && w) {
          const need = sum + Math.max(check.amount, 1) - check.limit;
          let freed = 0;
          for (let i = cutoff; i <= idx; i++) {
            freed += w.buckets.get(i) ?? 0;
            if (freed >= need) {
              retryMs = (i + check.buckets + 1) * check.bucketMs - nowMs;
              break;
            }
          }
        }
      }
      return { used: sum, reserved: 0, fits, resetMs, retryMs };
    }
    if (check.kind === 'period') {
      const used = field(check.key, 'used', nowMs);
      const reserved = field(check.key, 'reserved', nowMs);
      const cur = used + reserved;
      const fits = cur + check.amount <= check.limit && cur < check.limit;
      return { used, reserved, fits, resetMs: 0, retryMs: fits ? 0 : -1 };
    }
    const n = field(check.key, 'n', nowMs);
    const fits = n + slots(check) <= check.limit;
    return { used: n, reserved: 0, fits, resetMs: 0, retryMs: fits ? 0 : -1 };
  };

  const slots = (check: StoreCheck) => (check.amount > 1 ? check.amount : 1);

  const apply = (check: StoreCheck, state: CheckState, nowMs: number, undo: Undo[]) => {
    if (check.kind === 'window') {
      const idx = bucketOf(nowMs, check.bucketMs);
      let w = windows.get(check.key);
      if (!w) {
        w = { buckets: new Map(), sum: 0, lo: idx - check.buckets, hi: idx, expireAtMs: 0 };
        windows.set(check.key, w);
      }
      w.buckets.set(idx, (w.buckets.get(idx) ?? 0) + check.amount);
      w.sum += check.amount;
      w.hi = idx;
      w.expireAtMs = (idx + check.buckets + 2) * check.bucketMs;
      state.used = w.sum;
      state.resetMs = (idx + check.buckets + 1) * check.bucketMs - nowMs;
    } else if (check.kind === 'period') {
      if (check.amount > 0) {
        state.reserved = incr(check.key, 'reserved', check.amount, nowMs, check.expireAtMs);
        undo.push({ key: check.key, field: 'reserved', amount: check.amount });
      }
    } else {
      const n = slots(check);
      state.used = incr(check.key, 'n', n, nowMs, 0);
      undo.push({ key: check.key, field: 'n', amount: n });
    }
  };

  return {
    kind: 'memory',

    reserve(input: ReserveInput): ReserveOutput {
      gc(input.nowMs);
      sweepLeases(input.group, input.nowMs);
      // plain loops: this runs twice per request
      const { checks, nowMs } = input;
      const states: CheckState[] = [];
      let ok = true;
      for (let i = 0; i < checks.length; i++) {
        const state = inspect(checks[i]!, nowMs);
        if (!state.fits) ok = false;
        states.push(state);
      }
      if (!ok || input.dryRun) return { ok, states };
      const undo: Undo[] = [];
      for (let i = 0; i < checks.length; i++) apply(checks[i]!, states[i]!, nowMs, undo);
      if (undo.length > 0) {
        let held = leases.get(input.group);
        if (!held) {
          held = new Map();
          leases.set(input.group, held);
        }
        held.set(input.id, { expiresAtMs: input.nowMs + input.leaseMs, undo });
      }
      return { ok, states };
    },

    settle(input: SettleInput): SettleOutput {
      const { nowMs } = input;
      const held = leases.get(input.group);
      const lease = held?.get(input.id);
      if (held && lease) {
        for (const u of lease.undo) incr(u.key, u.field, -u.amount, nowMs, 0);
        held.delete(input.id);
        if (held.size === 0) leases.delete(input.group);
      }
      for (const adj of input.windows) {
        const cutoff = bucketOf(nowMs, adj.bucketMs) - adj.buckets;
        const w = windowAt(adj.key, cutoff, nowMs);
        if (!w || adj.bucket < cutoff || adj.delta === 0) continue;
        const cur = w.buckets.get(adj.bucket) ?? 0;
        const applied = cur + adj.delta < 0 ? -cur : adj.delta;
        w.buckets.set(adj.bucket, cur + applied);
        w.sum += applied;
      }
      const used: number[] = [];
      const crossed: boolean[] = [];
      for (const charge of input.periods) {
        const now =
          charge.amount > 0
            ? incr(charge.key, 'used', charge.amount, nowMs, charge.expireAtMs)
            : field(charge.key, 'used', nowMs);
        used.push(now);
        let fire = false;
        if (charge.softAt > 0 && now >= charge.softAt) {
          const alertKey = `${charge.key}:alert:${charge.softAt}`;
          const firedAt = alerts.get(alertKey);
          fire = firedAt === undefined || (firedAt !== 0 && firedAt <= nowMs);
          if (fire) alerts.set(alertKey, charge.expireAtMs);
        }
        crossed.push(fire);
      }
      return { used, crossed };
    },

    async seed(nowMs: number, seeds: readonly PeriodSeed[]): Promise<void> {
      for (const s of seeds) {
        if (s.used > 0 && counter(s.key, nowMs)?.fields.get('used') === undefined) {
          incr(s.key, 'used', s.used, nowMs, s.expireAtMs);
        }
      }
    },
  };
}
