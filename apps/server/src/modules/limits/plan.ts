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
  /** what running batches hold of a period's limit (already taken off `limit`) */
  heldByBatches?: number;
}

/** Every counter key of one org shares the `{orgId}` hash tag (one Redis slot per org). */
export function counterPrefix(policy: LimitPolicy): string {
  const model = policy.model === null ? '*' : encodeURIComponent(policy.model);
  return `{${policy.orgId}}:${policy.scope}:${policy.scopeId}:${model}`;
}

type WindowSpec = typeof MINUTE | typeof DAY;

/** What a policy asks for, without this request's amounts; built once per policy object. */
type CheckTemplate =
  | { dim: 'rpm' | 'rpd' | 'tpm' | 'tpd'; kind: 'window'; key: string; limit: number; spec: WindowSpec }
  | { dim: 'concurrency'; kind: 'concurrency'; key: string; limit: number }
  | { dim: 'token_quota' | 'budget'; kind: 'period'; key: string; limit: number; period: LimitPeriod };

const templates = new WeakMap<LimitPolicy, CheckTemplate[]>();

function templatesOf(policy: LimitPolicy): CheckTemplate[] {
  let out = templates.get(policy);
  if (out) return out;
  const base = counterPrefix(policy);
  out = [];
  const windows = [
    ['rpm', policy.rpm, MINUTE],
    ['rpd', policy.rpd, DAY],
    ['tpm', policy.tpm, MINUTE],
    ['tpd', policy.tpd, DAY],
  ] as const;
  for (const [dim, limit, spec] of windows) {
    if (limit !== null) out.push({ dim, kind: 'window', key: `${base}:${dim}`, limit, spec });
  }
  if (policy.maxConcurrent !== null) {
    out.push({ dim: 'concurrency', kind: 'concurrency', key: `${base}:conc`, limit: policy.maxConcurrent });
  }
  if (policy.tokenQuota !== null) {
    const period = policy.quotaPeriod ?? 'month';
    out.push({
      dim: 'token_quota',
      kind: 'period',
      key: `${base}:token_quota:${period}`,
      limit: policy.tokenQuota,
      period,
    });
  }
  if (policy.budget !== null) {
    const period = policy.budgetPeriod ?? 'month';
    const limit = Math.round(policy.budget * MONEY_SCALE);
    out.push({ dim: 'budget', kind: 'period', key: `${base}:budget:${period}`, limit, period });
  }
  templates.set(policy, out);
  return out;
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
  const out: PlannedCheck[] = [];
  for (const t of templatesOf(policy)) {
    if (t.kind === 'window') {
      const amount = t.dim === 'rpm' || t.dim === 'rpd' ? 1 : tokens;
      out.push({
        dim: t.dim,
        policy,
        kind: 'window',
        key: t.key,
        limit: t.limit,
        amount,
        bucketMs: t.spec.bucketMs,
        buckets: t.spec.buckets,
        expireAtMs: 0,
      });
    } else if (t.kind === 'concurrency') {
      out.push({
        dim: t.dim,
        policy,
        kind: 'concurrency',
        key: t.key,
        limit: t.limit,
        amount: 1,
        bucketMs: 0,
        buckets: 0,
        expireAtMs: 0,
      });
    } else {
      const { startMs, endMs } = periodBounds(t.period, nowMs);
      out.push({
        dim: t.dim,
        policy,
        kind: 'period',
        key: `${t.key}:${startMs}`,
        limit: t.limit,
        amount: t.dim === 'budget' ? costMicros : tokens,
        bucketMs: 0,
        buckets: 0,
        // kept a day past the period's end so a late settle still finds it
        expireAtMs: endMs === null ? 0 : endMs + 86_400_000,
        period: { name: t.period, startMs, endMs },
      });
    }
  }
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
