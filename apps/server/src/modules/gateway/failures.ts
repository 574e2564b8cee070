import { AppError, type ErrorCode } from '../../http/app-error.ts';
import type { FallbackClass } from '../registry/index.ts';

/**
 * Why an attempt produced no answer. `cls` decides what happens next: `unavailable` may be retried
 * and falls back to a model configured for it, `context_length` only falls back, `client` goes
 * back to the client as is, `aborted` means the client left.
 */
export interface Failure {
  cls: FallbackClass | 'client' | 'aborted';
  status: number;
  code: ErrorCode;
  message: string;
  retryAfterMs: number | null;
}

export const failure = (
  cls: Failure['cls'],
  status: number,
  code: ErrorCode,
  message: string,
  retryAfterMs: number | null = null,
): Failure => ({ cls, status, code, message, retryAfterMs });

export const timeoutFailure = (ms: number) =>
  failure('unavailable', 504, 'upstream_timeout', `The upstream did not answer within ${ms} ms.`);

export const connectionFailure = (detail: string) =>
  failure('unavailable', 502, 'upstream_error', `The upstream could not be reached: ${detail}.`);

export const clientGone = () => failure('aborted', 499, 'internal_error', 'client closed the request');

/** An upstream's error answer, classified. */
export function upstreamFailure(
  status: number,
  message: string,
  retryable: boolean,
  contextLength: boolean,
  retryAfterMs: number | null,
): Failure {
  if (contextLength) return failure('context_length', 400, 'context_length_exceeded', message);
  if (status === 429)
    return failure(
      'unavailable',
      429,
      'rate_limit_exceeded',
      `The upstream is rate limited: ${message}`,
      retryAfterMs,
    );
  // a loop back into maas (its hop header seen upstream): a failure of this target, never retried
  if (status === 508)
    return failure('unavailable', 502, 'upstream_error', `The upstream failed (508): ${message}`);
  if (retryable) {
    const code: ErrorCode =
      status === 503 || status === 529
        ? 'service_unavailable'
        : status === 504
          ? 'upstream_timeout'
          : 'upstream_error';
    const shown = status >= 500 ? status : 502;
    return failure(
      'unavailable',
      code === 'upstream_error' ? 502 : shown,
      code,
      `The upstream failed (${status}): ${message}`,
      retryAfterMs,
    );
  }
  return failure('client', status >= 400 && status < 500 ? status : 400, 'validation_failed', message);
}

/** The error the client gets when every attempt and fallback failed. */
export function toAppError(f: Failure): AppError {
  const headers =
    f.retryAfterMs !== null && (f.status === 429 || f.status === 503)
      ? { 'retry-after': String(Math.max(1, Math.ceil(f.retryAfterMs / 1000))) }
      : undefined;
  return new AppError(f.code, f.message, undefined, { status: f.status, ...(headers ? { headers } : {}) });
}
