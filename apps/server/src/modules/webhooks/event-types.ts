/** Event type patterns: dotted names with `*` standing for any run of characters (`job.*`, `*`). */
export const EVENT_PATTERN = /^[a-z0-9_*]+(\.[a-z0-9_*]+)*$/;

/** The event a test sends; it reaches the endpoint whatever its filters say. */
export const TEST_EVENT = 'webhook.test';

/** Event types maas sends today (patterns may name future ones too). */
export const KNOWN_EVENTS = [
  'batch.completed',
  'batch.failed',
  'batch.expired',
  'batch.cancelled',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'budget.threshold_reached',
  TEST_EVENT,
] as const;

/** Does one of the patterns match the event type? */
export function matchesEvent(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => {
    if (p === '*' || p === type) return true;
    if (!p.includes('*')) return false;
    const re = new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`);
    return re.test(type);
  });
}

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
