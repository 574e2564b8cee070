import type { AbortSwitch } from './abort-switch.ts';

/** Statuses after which another attempt (same or other target) may succeed. */
const RETRYABLE = new Set([401, 403, 404, 408, 409, 425, 429, 500, 502, 503, 504, 529]);

/** 508: the upstream is (another) maas that saw its own hop header: retrying would loop again. */
export const isRetryableStatus = (status: number) =>
  RETRYABLE.has(status) || (status > 504 && status !== 508);

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** a Retry-After longer than this is not waited for */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 50, maxMs: 2_000, maxRetryAfterMs: 5_000 };

/**
 * `Retry-After` (seconds or an HTTP date; also `retry-after-ms`) in ms, or null when absent or invalid.
 */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  now = Date.now(),
): number | null {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The wait before attempt `attempt` (1 for the first retry): exponential with full jitter, at least
 * what the upstream asked for in Retry-After. Null when the upstream asked for longer than we wait.
 */
export function backoffMs(
  attempt: number,
  retryAfter: number | null,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number | null {
  if (retryAfter !== null && retryAfter > opts.maxRetryAfterMs) return null;
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(retryAfter ?? 0, Math.round(jittered));
}

/** Waits `ms`, or less when the switch is thrown. */
export function sleep(ms: number, signal?: AbortSwitch): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.off('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.once('abort', done);
  });
}
