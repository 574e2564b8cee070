/**
 * Durable jobs: a queue in the database shared by every `maas serve` replica.
 *
 * A job runs at least once and, when it succeeds, its result is recorded once. A handler may run
 * again after it already did some work: its process died (kill -9, the lease ran out and another
 * worker took the job over), it lost its lease while hung, or the process shut down (its signal was
 * aborted and the lease given back). So handlers make every step idempotent:
 * - persist progress as they go (`ctx.heartbeat(progress)`, or rows of their own keyed by the job
 *   id) and on start read `ctx.job.progress` / their own rows to skip finished steps;
 * - key every side effect that a user can see (a usage row, an output line, a webhook) by something
 *   stable (job id + step) so that doing it twice stores it once;
 * - stop promptly when `ctx.signal` aborts (`signal.reason` is a `JobAbortedError` whose `reason` is
 *   `cancelled`, `lease_lost` or `shutdown`); after `lease_lost` nothing they write is recorded.
 * A handler's return value is stored as `result`; a thrown error is retried with backoff until
 * `maxAttempts`, then stored (its message, never null) with status `failed`; `PermanentJobError`
 * fails at once. Leases are kept alive by the engine; long steps need no heartbeat of their own.
 */
export { defaultBackoffMs } from './backoff.ts';
export { createJobEngine, type JobEngineDeps } from './engine.ts';
export { jobs } from './schema.ts';
export {
  JobAbortedError,
  type JobAbortReason,
  type JobContext,
  type JobEngine,
  type JobHandler,
  type JobRow,
  type JobSpec,
  type JobStatus,
  PermanentJobError,
  type QueueOptions,
} from './types.ts';
