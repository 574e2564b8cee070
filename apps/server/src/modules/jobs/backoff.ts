/**
 * Exponential backoff with jitter: about 1 s, 2 s, 4 s … capped at 10 minutes, each drawn from
 * [half, full] of that step so jobs that failed together do not retry together.
 */
export function defaultBackoffMs(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(600_000, 1_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** The text stored for a failed attempt: never empty. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const text = err.message || err.name || 'Error';
    const cause = err.cause instanceof Error && err.cause.message ? `: ${err.cause.message}` : '';
    return `${text}${cause}`.slice(0, 4_000);
  }
  const text = typeof err === 'string' ? err : JSON.stringify(err);
  return (text || 'handler failed without an error').slice(0, 4_000);
}
