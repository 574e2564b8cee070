import { describe, expect, it } from 'vitest';
import { backoffMs, isRetryableStatus, retryAfterMs } from './retry.ts';

describe('retry', () => {
  it('reads Retry-After in seconds, as a date, and retry-after-ms', () => {
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2_000);
    expect(retryAfterMs({ 'retry-after-ms': '150' })).toBe(150);
    expect(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 7_000)).toBe(3_000);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeNull();
    expect(retryAfterMs({})).toBeNull();
  });

  it('backs off exponentially with jitter, at least as long as asked, and gives up on long asks', () => {
    const opts = { baseMs: 100, maxMs: 1_000, maxRetryAfterMs: 5_000 };
    expect(backoffMs(1, null, opts, () => 0)).toBe(50);
    expect(backoffMs(1, null, opts, () => 1)).toBe(100);
    expect(backoffMs(3, null, opts, () => 1)).toBe(400);
    expect(backoffMs(10, null, opts, () => 1)).toBe(1_000);
    expect(backoffMs(1, 2_000, opts, () => 1)).toBe(2_000);
    expect(backoffMs(1, 6_000, opts)).toBeNull();
  });

  it('retries server errors and throttling, not bad requests', () => {
    for (const s of [429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [400, 413, 422, 508]) expect(isRetryableStatus(s)).toBe(false);
  });
});
