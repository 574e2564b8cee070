import type { DbOrTx } from '../../db/client.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelling' | 'cancelled';

export interface JobRow {
  id: string;
  queue: string;
  orgId: string | null;
  status: JobStatus;
  priority: number;
  payload: unknown;
  result: unknown;
  error: string | null;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  leaseUntil: Date | null;
  lockedBy: string | null;
  progress: unknown;
  dedupeKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface JobSpec {
  queue: string;
  payload: unknown;
  orgId?: string | null;
  /** higher runs first, default 0 */
  priority?: number;
  runAt?: Date;
  maxAttempts?: number;
  /** unique per queue: enqueue returns the existing job */
  dedupeKey?: string;
}

export interface JobContext {
  job: JobRow;
  /** aborted on cancel, lost lease or shutdown; `signal.reason` is a JobAbortReason */
  signal: AbortSignal;
  /** extends the lease and stores progress; throws (and aborts the signal) when the lease is lost */
  heartbeat(progress?: unknown): Promise<void>;
}

export interface QueueOptions {
  /** handlers running at once in this process */
  concurrency: number;
  /** jobs of one org running at once across all replicas */
  perOrgConcurrency?: number;
  /** how long a claim holds without a heartbeat (default 30 s); the engine heartbeats every third of it */
  leaseMs?: number;
  /** default for jobs enqueued without maxAttempts (5) */
  maxAttempts?: number;
  /** delay before attempt `attempt + 1` after attempt `attempt` failed (default: exponential with jitter) */
  backoffMs?: (attempt: number) => number;
  /** how often an idle worker looks for work (default 250 ms) */
  pollMs?: number;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** Thrown by a handler: the job fails now, without further attempts. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** Why a job's signal was aborted. */
export type JobAbortReason = 'cancelled' | 'lease_lost' | 'shutdown';

export class JobAbortedError extends Error {
  override name = 'JobAbortedError';
  constructor(readonly reason: JobAbortReason) {
    super(`job aborted: ${reason}`);
  }
}

export interface JobEngine {
  register(queue: string, opts: QueueOptions, handler: JobHandler): void;
  /** in the caller's transaction when given */
  enqueue(spec: JobSpec, tx?: DbOrTx): Promise<JobRow>;
  /** queued → cancelled at once; running → cancelling, its signal aborts, then cancelled */
  cancel(id: string): Promise<JobRow | null>;
  get(id: string): Promise<JobRow | null>;
  start(): void;
  /** stops claiming, aborts running handlers and releases their leases for another worker */
  stop(): Promise<void>;
}
