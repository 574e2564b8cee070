import { AppError } from '../../http/app-error.ts';
import type { PlannedCheck } from './plan.ts';
import type { CheckState } from './store.ts';

/** OpenAI's duration format for `x-ratelimit-reset-*`: `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatResetDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  // whole milliseconds in integer arithmetic: String(n / 1000) prints at most 3 decimals
  let rest = Math.round(ms);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${rest / 1000}s`;
}

export interface RateLimitFigures {
  limit: number;
  remaining: number;
  resetMs: number;
}

/**
 * Renders OpenAI's rate-limit headers: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, and
 * `retry-after` (whole seconds) plus `retry-after-ms` (read by the OpenAI SDKs) when given.
 */
export function renderRateLimitHeaders(figures: {
  requests?: RateLimitFigures | undefined;
  tokens?: RateLimitFigures | undefined;
  retryAfterMs?: number | null | undefined;
}): Record<string, string> {
  const headers: Record<string, string> = {};
  const { requests, tokens } = figures;
  if (requests) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit);
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, requests.remaining));
    headers['x-ratelimit-reset-requests'] = formatResetDuration(requests.resetMs);
  }
  if (tokens) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit);
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, tokens.remaining));
    headers['x-ratelimit-reset-tokens'] = formatResetDuration(tokens.resetMs);
  }
  if (figures.retryAfterMs !== undefined && figures.retryAfterMs !== null) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(figures.retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.max(1, Math.ceil(figures.retryAfterMs)));
  }
  return headers;
}

/** The tightest request window and the tightest token window among the checks, for the headers. */
export function headlineFigures(
  checks: readonly PlannedCheck[],
  states: readonly CheckState[],
): { requests?: RateLimitFigures; tokens?: RateLimitFigures } {
  const out: { requests?: RateLimitFigures; tokens?: RateLimitFigures } = {};
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i]!;
    const kind =
      c.dim === 'rpm' || c.dim === 'rpd' ? 'requests' : c.dim === 'tpm' || c.dim === 'tpd' ? 'tokens' : null;
    const s = states[i];
    if (!kind || !s) continue;
    const remaining = Math.max(0, c.limit - s.used);
    const current = out[kind];
    if (!current || remaining < current.remaining)
      out[kind] = { limit: c.limit, remaining, resetMs: s.resetMs };
  }
  return out;
}

/** What `admit` answers when a request is refused. */
export interface LimitRejection {
  ok: false;
  code: 'rate_limit_exceeded' | 'insufficient_quota';
  /** null: waiting will not help (the request is larger than the limit, or a total quota is spent) */
  retryAfterS: number | null;
  headers: Record<string, string>;
  message: string;
}

/** The 429 to throw for a refused request: OpenAI's error shape on /v1, with the rate-limit headers. */
export function toLimitError(rejection: LimitRejection): AppError {
  return new AppError(rejection.code, rejection.message, undefined, { headers: rejection.headers });
}
