import { DIMENSION_LABEL, describeScope, MONEY_SCALE, type PlannedCheck } from './plan.ts';
import type { LimitSubject } from './policy.ts';
import { formatResetDuration } from './rate-limit-headers.ts';
import type { CheckState } from './store.ts';

export interface RejectionReason {
  code: 'rate_limit_exceeded' | 'insufficient_quota';
  /** null: waiting will not help */
  retryAfterMs: number | null;
  message: string;
}

/** A concurrency slot frees when some request ends; we cannot know when, so suggest a second. */
const CONCURRENCY_RETRY_MS = 1_000;

/**
 * Why a reserve failed, for the 429: a spent quota or budget wins over a rate limit (waiting a minute
 * will not help); among rate limits the one that frees last sets Retry-After.
 */
export function explainRejection(
  subject: LimitSubject,
  checks: readonly PlannedCheck[],
  states: readonly CheckState[],
  nowMs: number,
): RejectionReason {
  const failing = checks.map((c, i) => ({ c, s: states[i]! })).filter(({ s }) => !s.fits);
  const quota = failing.filter(({ c }) => c.kind === 'period');
  if (quota.length > 0) {
    let retryAfterMs: number | null = 0;
    for (const { c } of quota) {
      const end = c.period?.endMs ?? null;
      retryAfterMs =
        end === null || c.amount > c.limit || retryAfterMs === null
          ? null
          : Math.max(retryAfterMs, end - nowMs);
    }
    const { c, s } = quota[0]!;
    return { code: 'insufficient_quota', retryAfterMs, message: quotaMessage(c, s) };
  }
  let worst = failing[0]!;
  let retryAfterMs: number | null = 0;
  for (const f of failing) {
    const retry = f.c.kind === 'concurrency' ? CONCURRENCY_RETRY_MS : f.s.retryMs < 0 ? null : f.s.retryMs;
    if (retry === null) {
      retryAfterMs = null;
      worst = f;
      break;
    }
    if (retry >= retryAfterMs!) {
      retryAfterMs = retry;
      worst = f;
    }
  }
  return {
    code: 'rate_limit_exceeded',
    retryAfterMs,
    message: rateMessage(subject, worst.c, worst.s, retryAfterMs),
  };
}

function rateMessage(
  subject: LimitSubject,
  c: PlannedCheck,
  s: CheckState,
  retryAfterMs: number | null,
): string {
  const where = `${DIMENSION_LABEL[c.dim]} of ${describeScope(c.policy)}`;
  if (c.kind === 'concurrency') {
    return `Too many concurrent requests for ${subject.model} on ${where}: Limit ${c.limit}. Please try again when a request has finished.`;
  }
  if (retryAfterMs === null) {
    return `Request too large for ${subject.model} on ${where}: Limit ${c.limit}, Requested ${c.amount}. Reduce the prompt or max_tokens.`;
  }
  return (
    `Rate limit reached for ${subject.model} on ${where}: Limit ${c.limit}, Used ${s.used}, Requested ${c.amount}. ` +
    `Please try again in ${formatResetDuration(retryAfterMs)}.`
  );
}

function quotaMessage(c: PlannedCheck, s: CheckState): string {
  const money = c.dim === 'budget';
  const fmt = (n: number) => (money ? String(Number((n / MONEY_SCALE).toFixed(6))) : String(n));
  const unit = money ? '' : ' tokens';
  const name = c.period?.name ?? 'month';
  const what = name === 'total' ? `total ${DIMENSION_LABEL[c.dim]}` : `${DIMENSION_LABEL[c.dim]} per ${name}`;
  const batches = c.heldByBatches ?? 0;
  const heldByBatches = batches > 0 ? `, ${fmt(batches)} held by running batches` : '';
  return (
    `You exceeded your current quota: the ${what} of ${describeScope(c.policy)} is ${fmt(c.limit + batches)}${unit}; ` +
    `${fmt(s.used)} used and ${fmt(s.reserved)} held by requests in flight${heldByBatches}, this request needs up to ${fmt(c.amount)}.`
  );
}
