import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { defaultBackoffMs, errorText } from './backoff.ts';
import type { JobMetrics } from './job-metrics.ts';
import { claimJobs, completeJob, extendLeases, failJob, releaseJobs } from './job-store.ts';
import {
  JobAbortedError,
  type JobAbortReason,
  type JobContext,
  type JobHandler,
  type JobRow,
  PermanentJobError,
  type QueueOptions,
} from './types.ts';

export interface QueueWorkerDeps {
  db: Db;
  log: Logger;
  /** this process's name in `locked_by` */
  worker: string;
  queue: string;
  opts: QueueOptions;
  handler: JobHandler;
  metrics: JobMetrics | undefined;
}

interface Running {
  job: JobRow;
  controller: AbortController;
  done: Promise<void>;
}

export type QueueWorker = ReturnType<typeof createQueueWorker>;

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_POLL_MS = 250;
/** an idle worker's polls space out up to this (or 8 × pollMs, whichever is less) */
export const IDLE_POLL_MAX_MS = 2_000;

/**
 * One queue's loop in one process: claims up to `concurrency` jobs, runs their handlers, keeps their
 * leases alive (a heartbeat every third of the lease, which also notices a cancel from another
 * replica) and records each outcome. Polls every `pollMs`, and at once when nudged (an enqueue
 * here or, through the bus, on another replica; a finished job). Polls that find nothing double the
 * wait up to IDLE_POLL_MAX_MS: a process runs about ten queues, and an idle one otherwise ran ~35
 * claim transactions a second. A claim or a nudge brings it back to `pollMs`.
 */
export function createQueueWorker(deps: QueueWorkerDeps) {
  const { db, log, worker, queue, opts, handler, metrics } = deps;
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const idleMaxMs = Math.max(pollMs, Math.min(8 * pollMs, IDLE_POLL_MAX_MS));
  let waitMs = pollMs;
  /** nudged since the last poll: an empty answer then does not count as idle */
  let nudged = false;
  const backoff = opts.backoffMs ?? ((attempt: number) => defaultBackoffMs(attempt));
  const running = new Map<string, Running>();
  let stopped = true;
  let polling = false;
  let again = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let beatTimer: NodeJS.Timeout | undefined;

  const count = (outcome: string) => metrics?.attempts.inc({ queue, outcome });

  function abort(entry: Running, reason: JobAbortReason) {
    if (!entry.controller.signal.aborted) entry.controller.abort(new JobAbortedError(reason));
  }

  function reasonOf(entry: Running): JobAbortReason | undefined {
    const reason = entry.controller.signal.reason;
    return entry.controller.signal.aborted && reason instanceof JobAbortedError ? reason.reason : undefined;
  }

  /** a heartbeat's answer: absent means another worker holds the job now */
  function check(entry: Running, status: string | undefined) {
    if (status === undefined) abort(entry, 'lease_lost');
    else if (status === 'cancelling') abort(entry, 'cancelled');
  }

  async function beat() {
    const entries = [...running.values()];
    if (entries.length === 0) return;
    try {
      const held = await extendLeases(
        db,
        worker,
        entries.map((e) => e.job.id),
        leaseMs,
      );
      for (const entry of entries) if (running.has(entry.job.id)) check(entry, held.get(entry.job.id));
    } catch (err) {
      log.warn({ err: errorText(err), queue }, 'job heartbeat failed');
    }
  }

  async function run(entry: Running): Promise<void> {
    const { job, controller } = entry;
    const ctx: JobContext = {
      job,
      signal: controller.signal,
      async heartbeat(progress?: unknown) {
        const held = await extendLeases(
          db,
          worker,
          [job.id],
          leaseMs,
          progress === undefined ? undefined : { id: job.id, value: progress },
        );
        check(entry, held.get(job.id));
        if (controller.signal.aborted) throw controller.signal.reason;
      },
    };
    let result: unknown;
    try {
      result = await Promise.resolve().then(() => handler(ctx));
    } catch (err) {
      await settleFailure(entry, err);
      return;
    }
    if (reasonOf(entry) === 'lease_lost') return; // another worker took it over: its outcome counts
    await completeJob(db, job.id, worker, result);
    count(reasonOf(entry) === 'cancelled' ? 'cancelled' : 'succeeded');
  }

  async function settleFailure(entry: Running, err: unknown): Promise<void> {
    const { job } = entry;
    const reason = reasonOf(entry);
    if (reason === 'lease_lost') return;
    if (reason === 'shutdown') {
      await releaseJobs(db, worker, [job.id]);
      count('released');
      return;
    }
    if (reason === 'cancelled') {
      await failJob(db, job.id, worker, 'cancelled', null);
      count('cancelled');
      return;
    }
    const permanent = err instanceof PermanentJobError || job.attempts >= job.maxAttempts;
    const text = errorText(err);
    const row = await failJob(
      db,
      job.id,
      worker,
      text,
      permanent ? null : Math.max(0, backoff(job.attempts)),
    );
    if (row?.status === 'failed') {
      metrics?.failed.inc({ queue });
      count('failed');
      log.warn({ job_id: job.id, queue, attempts: job.attempts, err: text }, 'job failed');
    } else if (row?.status === 'queued') {
      count('retried');
      log.info(
        { job_id: job.id, queue, attempts: job.attempts, err: text, retry_at: row.runAt },
        'job attempt failed; retrying',
      );
    }
  }

  function launch(job: JobRow) {
    const entry: Running = { job, controller: new AbortController(), done: Promise.resolve() };
    running.set(job.id, entry);
    entry.done = run(entry)
      .catch((err) =>
        log.error({ err: errorText(err), job_id: job.id, queue }, 'could not record a job outcome'),
      )
      .finally(() => {
        running.delete(job.id);
        nudge();
      });
  }

  async function poll(): Promise<void> {
    if (stopped) return;
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    clearTimeout(pollTimer);
    try {
      do {
        again = false;
        const free = opts.concurrency - running.size;
        if (free <= 0) break;
        const claimed = await claimJobs(db, {
          queue,
          worker,
          limit: free,
          leaseMs,
          perOrgConcurrency: opts.perOrgConcurrency,
        });
        if (stopped) {
          await releaseJobs(
            db,
            worker,
            claimed.map((j) => j.id),
          );
          break;
        }
        for (const job of claimed) launch(job);
        waitMs = claimed.length > 0 || nudged ? pollMs : Math.min(idleMaxMs, waitMs * 2);
        nudged = false;
      } while (again && !stopped);
    } catch (err) {
      log.warn({ err: errorText(err), queue }, 'job claim failed');
    } finally {
      polling = false;
      if (!stopped) pollTimer = setTimeout(() => void poll(), waitMs);
    }
  }

  function nudge() {
    if (stopped) return;
    // what nudged may not be visible yet (an enqueue inside a transaction): look again soon
    nudged = true;
    if (polling) again = true;
    else setImmediate(() => void poll());
  }

  return {
    queue,
    nudge,
    /** aborts a job this process runs (a cancel seen here or announced by another replica) */
    abort(id: string, reason: JobAbortReason) {
      const entry = running.get(id);
      if (entry) abort(entry, reason);
      return Boolean(entry);
    },
    get runningCount() {
      return running.size;
    },
    runningIds: () => [...running.keys()],
    start() {
      if (!stopped) return;
      stopped = false;
      beatTimer = setInterval(() => void beat(), Math.max(50, Math.floor(leaseMs / 3)));
      nudge();
    },
    /** stops claiming, aborts the running handlers, waits up to `graceMs`, then gives back what is left */
    async stop(graceMs: number) {
      stopped = true;
      clearTimeout(pollTimer);
      const entries = [...running.values()];
      for (const entry of entries) abort(entry, 'shutdown');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(entries.map((e) => e.done)),
        new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      // heartbeats go on through the grace: a grace longer than the lease must not hand a job still
      // finishing here to another replica
      clearInterval(beatTimer);
      await releaseJobs(db, worker, [...running.keys()]).catch(() => {});
      // a claim that was in flight when stop began releases its own rows
      while (polling) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
}
