import { describe, expect, it } from 'vitest';
import { periodBounds } from './periods.ts';
import { formatResetDuration, renderRateLimitHeaders, toLimitError } from './rate-limit-headers.ts';

describe('OpenAI rate-limit headers', () => {
  it('formats reset durations the way OpenAI does', () => {
    expect(formatResetDuration(0)).toBe('0s');
    expect(formatResetDuration(20)).toBe('20ms');
    expect(formatResetDuration(1000)).toBe('1s');
    expect(formatResetDuration(1500)).toBe('1.5s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(86_400_000)).toBe('24h0m0s');
  });

  it('renders the requests and tokens trios and Retry-After in whole seconds', () => {
    expect(
      renderRateLimitHeaders({
        requests: { limit: 100, remaining: -3, resetMs: 600 },
        tokens: { limit: 5000, remaining: 4200, resetMs: 61_000 },
        retryAfterMs: 1200,
      }),
    ).toEqual({
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '600ms',
      'x-ratelimit-limit-tokens': '5000',
      'x-ratelimit-remaining-tokens': '4200',
      'x-ratelimit-reset-tokens': '1m1s',
      'retry-after': '2',
      'retry-after-ms': '1200',
    });
    expect(renderRateLimitHeaders({ retryAfterMs: null })).toEqual({});
  });

  it('turns a refusal into a 429 of the right OpenAI type carrying the headers', () => {
    const err = toLimitError({
      ok: false,
      code: 'insufficient_quota',
      retryAfterS: null,
      headers: { a: 'b' },
      message: 'm',
    });
    expect(err).toMatchObject({
      status: 429,
      code: 'insufficient_quota',
      type: 'insufficient_quota',
      headers: { a: 'b' },
    });
  });
});

describe('calendar periods (UTC)', () => {
  const at = Date.UTC(2026, 1, 18, 15, 30); // a Wednesday
  it('bounds a day, a week from Monday, a month, and total', () => {
    expect(periodBounds('day', at)).toEqual({ startMs: Date.UTC(2026, 1, 18), endMs: Date.UTC(2026, 1, 19) });
    expect(periodBounds('week', at)).toEqual({
      startMs: Date.UTC(2026, 1, 16),
      endMs: Date.UTC(2026, 1, 23),
    });
    expect(periodBounds('week', Date.UTC(2026, 1, 22, 23))).toEqual(periodBounds('week', at));
    expect(periodBounds('month', at)).toEqual({ startMs: Date.UTC(2026, 1, 1), endMs: Date.UTC(2026, 2, 1) });
    expect(periodBounds('month', Date.UTC(2026, 11, 31))).toEqual({
      startMs: Date.UTC(2026, 11, 1),
      endMs: Date.UTC(2027, 0, 1),
    });
    expect(periodBounds('total', at)).toEqual({ startMs: 0, endMs: null });
  });
});
