export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** opens after this many failures in a row */
  failureThreshold: number;
  /** …or when this share of calls failed in the window, once `minRequests` were made */
  errorRateThreshold: number;
  minRequests: number;
  windowMs: number;
  /** how long it stays open before one half-open probe is let through */
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = {
  failureThreshold: 5,
  errorRateThreshold: 0.5,
  minRequests: 20,
  windowMs: 30_000,
  cooldownMs: 10_000,
};

/**
 * One breaker per target (provider, upstream model). Closed: calls flow. Open: calls are refused
 * until the cool-down passes; then one half-open probe call decides: success closes it, failure
 * opens it again. Also counts the target's outstanding calls for least-outstanding routing.
 */
export class CircuitBreaker {
  state: BreakerState = 'closed';
  consecutiveFailures = 0;
  openedAt = 0;
  outstanding = 0;
  private probing = false;
  private bucketStart = 0;
  private ok = 0;
  private failed = 0;
  private prevOk = 0;
  private prevFailed = 0;

  constructor(
    readonly providerId: string,
    readonly upstreamModel: string,
    private readonly opts: BreakerOptions,
  ) {}

  /** may a call be sent now? (does not change state) */
  available(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') return now - this.openedAt >= this.opts.cooldownMs;
    return !this.probing;
  }

  /** a call is being sent */
  acquire(now: number): void {
    if (this.state === 'open' && now - this.openedAt >= this.opts.cooldownMs) this.state = 'half_open';
    if (this.state === 'half_open') this.probing = true;
    this.outstanding += 1;
  }

  success(now: number): void {
    this.release();
    this.count(now, true);
    this.consecutiveFailures = 0;
    if (this.state === 'half_open') this.close();
  }

  failure(now: number): void {
    this.release();
    this.count(now, false);
    this.consecutiveFailures += 1;
    if (this.state === 'half_open') {
      this.open(now);
      return;
    }
    if (this.state !== 'closed') return;
    if (this.consecutiveFailures >= this.opts.failureThreshold || this.errorRateExceeded()) this.open(now);
  }

  /** the call ended without telling anything about the upstream (the client went away) */
  neutral(): void {
    this.release();
  }

  /** share of failed calls over the current and the previous window */
  errorRate(now: number): number {
    this.roll(now);
    const total = this.ok + this.failed + this.prevOk + this.prevFailed;
    return total === 0 ? 0 : (this.failed + this.prevFailed) / total;
  }

  /** ms until a probe is let through (0 when calls flow) */
  retryInMs(now: number): number {
    return this.state === 'open' ? Math.max(0, this.opts.cooldownMs - (now - this.openedAt)) : 0;
  }

  private release(): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
    this.probing = false;
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
  }

  private close(): void {
    this.state = 'closed';
    this.consecutiveFailures = 0;
    this.ok = this.failed = this.prevOk = this.prevFailed = 0;
  }

  private errorRateExceeded(): boolean {
    const total = this.ok + this.failed + this.prevOk + this.prevFailed;
    return (
      total >= this.opts.minRequests &&
      (this.failed + this.prevFailed) / total >= this.opts.errorRateThreshold
    );
  }

  private roll(now: number): void {
    const elapsed = now - this.bucketStart;
    if (elapsed < this.opts.windowMs) return;
    if (elapsed < 2 * this.opts.windowMs) {
      this.prevOk = this.ok;
      this.prevFailed = this.failed;
    } else {
      this.prevOk = this.prevFailed = 0;
    }
    this.ok = this.failed = 0;
    this.bucketStart = now - (elapsed % this.opts.windowMs);
  }

  private count(now: number, ok: boolean): void {
    this.roll(now);
    if (ok) this.ok += 1;
    else this.failed += 1;
  }
}

/** The breakers of every target, created on first use. */
export function createBreakerBook(opts: BreakerOptions) {
  const breakers = new Map<string, CircuitBreaker>();
  return {
    get(key: string, providerId: string, upstreamModel: string): CircuitBreaker {
      let b = breakers.get(key);
      if (!b) {
        b = new CircuitBreaker(providerId, upstreamModel, opts);
        breakers.set(key, b);
      }
      return b;
    },
    peek: (key: string): CircuitBreaker | undefined => breakers.get(key),
    forProvider(providerId: string): CircuitBreaker[] {
      return [...breakers.values()].filter((b) => b.providerId === providerId);
    },
  };
}

export type BreakerBook = ReturnType<typeof createBreakerBook>;
