import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterRes,
} from 'rate-limiter-flexible';
import { AppError } from '../../http/app-error.ts';

export interface LoginThrottleOptions {
  /** failed logins of one account before it is locked */
  failuresPerAccount: number;
  /** failed logins from one client address before it is locked */
  failuresPerAddress: number;
  /** the first lockout lasts this long; each further one within a day doubles it */
  lockoutBaseS: number;
  /** no lockout lasts longer than this */
  lockoutMaxS: number;
  /** failures are counted over this window */
  windowS?: number;
  /** shared counters across replicas; in-process counters take over while Redis is unreachable */
  redis?: Redis | undefined;
  /** keeps the counters of deployments that share one Redis apart (replicas of one share it) */
  namespace?: string;
}

export type LockoutScope = 'account' | 'address';

export interface Lockout {
  scope: LockoutScope;
  retryAfterS: number;
  /** lockouts of this account or address in the last day, this one included */
  count: number;
}

const DAY_S = 86_400;

/**
 * Login throttling per account (keyed by the email asked for, known or not) and per client address.
 * Failures count up; crossing the limit locks the key for lockoutBaseS·2^(n-1) seconds; a locked key
 * is refused with 429 and Retry-After before any password is checked, the right one included.
 */
export function createLoginThrottle(opts: LoginThrottleOptions) {
  const windowS = opts.windowS ?? 900;
  const make = (prefix: string, points: number, duration: number): RateLimiterAbstract => {
    const keyPrefix = `maas:login:${opts.namespace ?? 'default'}:${prefix}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!opts.redis) return memory;
    return new RateLimiterRedis({
      storeClient: opts.redis,
      keyPrefix,
      points,
      duration,
      insuranceLimiter: memory,
    });
  };
  const limiters: Record<LockoutScope, { fails: RateLimiterAbstract; lockouts: RateLimiterAbstract }> = {
    account: {
      fails: make('acct', opts.failuresPerAccount, windowS),
      lockouts: make('acct-lockouts', 1_000_000, DAY_S),
    },
    address: {
      fails: make('addr', opts.failuresPerAddress, windowS),
      lockouts: make('addr-lockouts', 1_000_000, DAY_S),
    },
  };
  const keyOf = (scope: LockoutScope, value: string) =>
    scope === 'account'
      ? createHash('sha256').update(value.trim().toLowerCase()).digest('hex').slice(0, 32)
      : value;

  const lockedFor = (res: RateLimiterRes | null, points: number): number =>
    res && res.consumedPoints > points ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;

  async function fail(scope: LockoutScope, value: string): Promise<Lockout | null> {
    const { fails, lockouts } = limiters[scope];
    const key = keyOf(scope, value);
    const res = await fails.penalty(key, 1);
    // Only the failure that reaches the limit locks: concurrent ones see other counts.
    if (res.consumedPoints !== fails.points) return null;
    const count = (await lockouts.penalty(key, 1)).consumedPoints;
    const retryAfterS = Math.min(opts.lockoutMaxS, opts.lockoutBaseS * 2 ** Math.min(count - 1, 30));
    await fails.block(key, retryAfterS);
    return { scope, retryAfterS, count };
  }

  return {
    /** Throws 429 with Retry-After when the account or the address is locked out. */
    async check(email: string, ip: string): Promise<void> {
      const [account, address] = await Promise.all([
        limiters.account.fails.get(keyOf('account', email)),
        limiters.address.fails.get(keyOf('address', ip)),
      ]);
      const wait = Math.max(
        lockedFor(account, limiters.account.fails.points),
        lockedFor(address, limiters.address.fails.points),
      );
      if (wait > 0) {
        throw new AppError(
          'rate_limit_exceeded',
          'too many failed sign-ins: try again later',
          { retry_after_s: wait },
          { headers: { 'retry-after': String(wait) } },
        );
      }
    },

    /** Counts a failed login; returns the lockouts it started (to be audited). */
    async recordFailure(email: string, ip: string): Promise<Lockout[]> {
      const started = await Promise.all([fail('account', email), fail('address', ip)]);
      return started.filter((l): l is Lockout => l !== null);
    },

    /** A successful login clears the account's failures (never the address's). */
    async recordSuccess(email: string): Promise<void> {
      await limiters.account.fails.delete(keyOf('account', email));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
