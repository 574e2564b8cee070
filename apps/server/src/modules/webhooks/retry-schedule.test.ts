import { describe, expect, it } from 'vitest';
import { matchesEvent } from './event-types.ts';
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  DEFAULT_RETRY_WINDOW_MS,
  nextAttemptAt,
  parseRetrySchedule,
} from './retry-schedule.ts';

describe('retry schedule', () => {
  it('parses durations with units', () => {
    expect(parseRetrySchedule('5s, 5m,30m,2h,100ms')).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 100]);
    expect(() => parseRetrySchedule('5x')).toThrow(/not a duration/);
    expect(() => parseRetrySchedule('')).toThrow();
  });

  it('waits by the schedule, repeats its last wait, and stops after the window', () => {
    const start = new Date(0);
    const noJitter = () => 0;
    const at = (attempts: number, nowMs: number) =>
      nextAttemptAt(
        DEFAULT_RETRY_SCHEDULE_MS,
        DEFAULT_RETRY_WINDOW_MS,
        attempts,
        start,
        new Date(nowMs),
        noJitter,
      )?.getTime() ?? null;
    expect(at(1, 0)).toBe(5_000);
    expect(at(2, 5_000)).toBe(5_000 + 300_000);
    expect(at(6, 1_000)).toBe(1_000 + 36_000_000);
    expect(at(20, 1_000)).toBe(1_000 + 36_000_000);
    expect(at(9, 70 * 3_600_000)).toBeNull();
    // the default schedule spans most of 72 h: 5 s … then 10 h until the window closes
    let now = 0;
    let attempts = 1;
    for (;;) {
      const next = at(attempts, now);
      if (next === null) break;
      now = next;
      attempts++;
    }
    expect(attempts).toBeGreaterThanOrEqual(11);
    expect(now).toBeGreaterThan(60 * 3_600_000);
  });
});

describe('event filters', () => {
  it('matches names and * wildcards', () => {
    expect(matchesEvent(['*'], 'batch.completed')).toBe(true);
    expect(matchesEvent(['batch.completed'], 'batch.completed')).toBe(true);
    expect(matchesEvent(['batch.completed'], 'batch.failed')).toBe(false);
    expect(matchesEvent(['job.*'], 'job.completed')).toBe(true);
    expect(matchesEvent(['job.*'], 'jobs.completed')).toBe(false);
    expect(matchesEvent(['budget.*', 'batch.failed'], 'budget.threshold_reached')).toBe(true);
    expect(matchesEvent(['batch.*ed'], 'batch.expired')).toBe(true);
    expect(matchesEvent(['a.b'], 'aXb')).toBe(false);
  });
});
