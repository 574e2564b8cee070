/**
 * Where limit counters live: in process (embedded) or in Redis (shared by every replica). Both
 * implement the same algorithm; one `reserve` checks every counter and then writes all or none.
 *
 * Counters (amounts are integers: requests, tokens, or money in millionths):
 * - `window`: a sliding window of `buckets` sub-buckets of `bucketMs` each. The sum counts every
 *   sub-bucket from `now - buckets*bucketMs` on, so no window of that length ever holds more than the
 *   limit; an entry leaves between one window and one window plus one sub-bucket after it was added.
 * - `period`: settled `used` plus in-flight `reserved` for one calendar period, dropped at its end.
 * - `concurrency`: requests in flight.
 * Period and concurrency reservations are held under a lease: a replica that dies without settling
 * gives them back when the lease runs out (the next reserve in that org sweeps expired leases).
 */
export type CheckKind = 'window' | 'period' | 'concurrency';

export interface StoreCheck {
  kind: CheckKind;
  key: string;
  limit: number;
  /** what this request adds (window: requests or tokens; period: tokens or money; concurrency: slots, at least 1) */
  amount: number;
  /** window only */
  bucketMs: number;
  /** window only */
  buckets: number;
  /** period only: when the counter may be dropped (ms since epoch), 0 for never */
  expireAtMs: number;
}

export interface CheckState {
  /** window: the sum; period: settled usage; concurrency: in flight — after the reserve when it succeeded */
  used: number;
  /** period only: in-flight reservations (after the reserve when it succeeded) */
  reserved: number;
  fits: boolean;
  /** window: ms until the window is empty again; 0 when it is */
  resetMs: number;
  /** window that does not fit: ms until it would; -1 when it never can (amount above the limit) */
  retryMs: number;
}

export interface ReserveInput {
  /** counters of one group (an org) share a lease registry; keys carry the group */
  group: string;
  id: string;
  nowMs: number;
  leaseMs: number;
  checks: StoreCheck[];
  /** look only: report the states, write nothing */
  dryRun?: boolean;
}

export interface ReserveOutput {
  ok: boolean;
  states: CheckState[];
}

export interface WindowAdjust {
  key: string;
  /** the sub-bucket the reservation was written to */
  bucket: number;
  bucketMs: number;
  buckets: number;
  delta: number;
}

export interface PeriodCharge {
  key: string;
  amount: number;
  /** settled usage at which the soft alert fires (0: none) */
  softAt: number;
  expireAtMs: number;
}

export interface SettleInput {
  group: string;
  id: string;
  nowMs: number;
  windows: WindowAdjust[];
  periods: PeriodCharge[];
}

export interface SettleOutput {
  /** per period charge: settled usage after it */
  used: number[];
  /** per period charge: this settle crossed the soft threshold first (exactly once across replicas) */
  crossed: boolean[];
}

export interface LimitStore {
  readonly kind: 'memory' | 'redis';
  /** the in-process store answers synchronously (no promise on the hot path) */
  reserve(input: ReserveInput): ReserveOutput | Promise<ReserveOutput>;
  /** Returns the lease's period and concurrency reservations (if still held) and applies actual usage. */
  settle(input: SettleInput): SettleOutput | Promise<SettleOutput>;
  /**
   * Sets a period counter's settled usage where the store holds none yet (a fresh process, a fresh
   * Redis): counters then start from what was already used in the period, not from zero.
   */
  seed(nowMs: number, counters: readonly PeriodSeed[]): Promise<void>;
  /** Writes what the store still holds back (a store that batches); resolves when nothing is pending. */
  flush?(): Promise<void>;
}

export interface PeriodSeed {
  key: string;
  used: number;
  expireAtMs: number;
}

export const bucketOf = (nowMs: number, bucketMs: number) => Math.floor(nowMs / bucketMs);
