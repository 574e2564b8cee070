import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { AdmitResult, Reservation } from './engine.ts';
import type { LimitPolicy } from './policy.ts';

/** For the limit tests: policies, a clock start, and Redis connections under scratch prefixes. */

/** quarter-hour aligned, so minute and day sub-buckets start exactly here */
export const T0 = Math.floor(Date.now() / 900_000) * 900_000;

let seq = 0;

/** A policy on the given key of the given org that limits nothing but what `p` sets. */
export function keyPolicy(orgId: string, keyId: string, p: Partial<LimitPolicy>): LimitPolicy {
  return {
    id: `lim_${++seq}`,
    orgId,
    scope: 'key',
    scopeId: keyId,
    model: null,
    rpm: null,
    rpd: null,
    tpm: null,
    tpd: null,
    maxConcurrent: null,
    tokenQuota: null,
    quotaPeriod: null,
    budget: null,
    budgetPeriod: null,
    softThreshold: null,
    webhookUrl: null,
    ...p,
  };
}

/** Redis connections of one test file; `cleanup` deletes every key under the prefixes it handed out. */
export function scratchRedis(url: string) {
  const connections: Redis[] = [];
  const prefixes: string[] = [];
  return {
    connect(): Redis {
      const redis = new Redis(url);
      connections.push(redis);
      return redis;
    },
    prefix(): string {
      const prefix = `maas:test:${randomBytes(6).toString('hex')}:`;
      prefixes.push(prefix);
      return prefix;
    },
    async cleanup(): Promise<void> {
      const first = connections[0];
      if (first) {
        for (const prefix of prefixes) {
          const keys = await first.keys(`${prefix}*`);
          if (keys.length > 0) await first.del(...keys);
        }
      }
      for (const c of connections) c.disconnect();
    },
  };
}

/** The reservation of an admitted request; throws with the refusal otherwise. */
export function admitted(r: AdmitResult): Reservation {
  if (!r.ok) throw new Error(`expected admission, got ${r.code}: ${r.message}`);
  return r.reservation;
}
