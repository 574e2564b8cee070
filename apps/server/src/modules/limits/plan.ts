import { periodBounds } from './periods.ts';
import type { LimitPolicy } from './policy.ts';
import type { LimitPeriod } from './schema.ts';
import type { StoreCheck } from './store.ts';

/** Money is counted in millionths of the price currency so every counter is an integer. */
export const MONEY_SCALE = 1_000_000;

export type Dimension = 'rpm' | 'rpd' | 'tpm' | 'tpd' | 'concurrency' | 'token_quota' | 'budget';

/** Sliding windows: a minute of 60 one-second sub-buckets, a day of 96 quarter-hours. */
export const MINUTE = { bucketMs: 1_000, buckets: 60 } as const;
export const DAY = { bucketMs: 900_000, buckets: 96 } as const;

export interface PlannedCheck extends StoreCheck {
  dim: Dimension;
  policy: LimitPolicy;
  period?: { name: LimitPeriod; startMs: number; endMs: number | null };
}

const noWindow = { bucketMs: 0, buckets: 0, expireAtMs: 0 };

/** Every counter key of one org shares the `{orgId}` hash tag (one Redis slot per org). */
export function counterPrefix(policy: LimitPolicy): string {
  const model = policy.model === null ? '*' : encodeURIComponent(policy.model);
  return `{${policy.orgId}}:${policy.scope}:${policy.scopeId}:${model}`;
}

/**
 * The counters one policy asks for, with what this request adds to each. Quota and budget counters
 * are per calendar period: their key names the period's start, so a new period starts from zero.
 */
export function checksOf(
  policy: LimitPolicy,
  tokens: number,
  costMicros: number,
  nowMs: number,
): PlannedCheck[] {
  const base = counterPrefix(policy);
  const out: PlannedCheck[] = [];
  const window = (dim: Dimension, limit: number | null, amount: number, spec: typeof MINUTE | typeof DAY) => {
    if (limit !== null)
      out.push({ dim, policy, kind: 'window', key: `${base}:${dim}`, limit, amount, ...spec, expireAtMs: 0 });
  };
  window('rpm', policy.rpm, 1, MINUTE);
  window('rpd', policy.rpd, 1, DAY);
  window('tpm', policy.tpm, tokens, MINUTE);
  window('tpd', policy.tpd, tokens, DAY);
  if (policy.maxConcurrent !== null) {
    out.push({
      dim: 'concurrency',
      policy,
      kind: 'concurrency',
      key: `${base}:conc`,
      limit: policy.maxConcurrent,
      amount: 1,
      ...noWindow,
    });
  }
  const period = (
    dim: 'token_quota' | 'budget',
    limit: number | null,
    name: LimitPeriod | null,
    amount: number,
  ) => {
    if (limit === null) return;
    const p = name ?? 'month';
    const { startMs, endMs } = periodBounds(p, nowMs);
    out.push({
      dim,
      policy,
      kind: 'period',
      key: `${base}:${dim}:${p}:${startMs}`,
      limit,
      amount,
      bucketMs: 0,
      buckets: 0,
      // kept a day past the period's end so a late settle still finds it
      expireAtMs: endMs === null ? 0 : endMs + 86_400_000,
      period: { name: p, startMs, endMs },
    });
  };
  period('token_quota', policy.tokenQuota, policy.quotaPeriod, tokens);
  period(
    'budget',
    policy.budget === null ? null : Math.round(policy.budget * MONEY_SCALE),
    policy.budgetPeriod,
    costMicros,
  );
  return out;
}

export const DIMENSION_LABEL: Record<Dimension, string> = {
  rpm: 'requests per minute (RPM)',
  rpd: 'requests per day (RPD)',
  tpm: 'tokens per minute (TPM)',
  tpd: 'tokens per day (TPD)',
  concurrency: 'concurrent requests',
  token_quota: 'token quota',
  budget: 'budget',
};

export function describeScope(policy: LimitPolicy): string {
  return `${policy.scope} ${policy.scopeId}${policy.model === null ? '' : ` for model ${policy.model}`}`;
}
