/** Waits after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
];
/** Retries stop this long after the first attempt (or the last manual replay). */
export const DEFAULT_RETRY_WINDOW_MS = 72 * 3_600_000;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Parses `5s,5m,30m,2h,5h,10h` (units ms, s, m, h); throws on anything else. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0 || parts.length > 50) throw new Error('must list 1 to 50 durations');
  return parts.map((p) => {
    const m = /^(\d+)(ms|s|m|h)$/.exec(p);
    if (!m) throw new Error(`"${p}" is not a duration like 500ms, 5s, 5m or 2h`);
    return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  });
}

/**
 * When to try again after `attempts` failed attempts, or null when the retry window is spent. The
 * last wait of the schedule repeats; a little jitter spreads receivers' recoveries.
 */
export function nextAttemptAt(
  schedule: readonly number[],
  windowMs: number,
  attempts: number,
  startedAt: Date,
  now: Date,
  random: () => number = Math.random,
): Date | null {
  const wait = schedule[Math.min(attempts, schedule.length) - 1] ?? schedule[schedule.length - 1]!;
  const jitter = wait >= 60_000 ? Math.floor(wait * 0.1 * random()) : 0;
  const at = now.getTime() + wait + jitter;
  return at > startedAt.getTime() + windowMs ? null : new Date(at);
}
