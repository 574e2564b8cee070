import type { LimitPeriod } from './schema.ts';

export interface PeriodBounds {
  startMs: number;
  /** null: the period never ends (`total`) */
  endMs: number | null;
}

const DAY_MS = 86_400_000;

const lastBounds = new Map<LimitPeriod, PeriodBounds>();

/** The calendar period (UTC) that contains `nowMs`; weeks start on Monday. */
export function periodBounds(period: LimitPeriod, nowMs: number): PeriodBounds {
  // Every request asks for the current period: answer from the last one while it lasts.
  const last = lastBounds.get(period);
  if (last && nowMs >= last.startMs && (last.endMs === null || nowMs < last.endMs)) return last;
  const bounds = Object.freeze(computeBounds(period, nowMs));
  lastBounds.set(period, bounds);
  return bounds;
}

function computeBounds(period: LimitPeriod, nowMs: number): PeriodBounds {
  const d = new Date(nowMs);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (period) {
    case 'day':
      return { startMs: dayStart, endMs: dayStart + DAY_MS };
    case 'week': {
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      const startMs = dayStart - sinceMonday * DAY_MS;
      return { startMs, endMs: startMs + 7 * DAY_MS };
    }
    case 'month':
      return {
        startMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
        endMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
      };
    case 'total':
      return { startMs: 0, endMs: null };
  }
}
