import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client.ts';
import { type Bus, topic } from '../../events/bus.ts';
import { newId } from '../../ids.ts';
import { errorText } from './backoff.ts';
import { createJobMetrics, type JobMetrics } from './job-metrics.ts';
import { deleteFinished, findJob, insertJob, markCancelled, reapExpired } from './job-store.ts';
import { createQueueWorker, type QueueWorker } from './queue-worker.ts';
import type { JobEngine, JobHandler, JobRow, JobSpec, QueueOptions } from './types.ts';

export interface JobEngineDeps {
  db: Db;
  log: Logger;
  /** wakes other replicas' workers on enqueue and tells them about cancels (Redis pub/sub) */
  bus?: Bus | undefined;
  /** Prometheus registry for the per-queue metrics */
  registry?: Registry | undefined;
  /** this process's name in `locked_by` (default: host, pid and a random part) */
  workerId?: string;
  /** how often expired leases are looked for (default 1 s) */
  reapMs?: number;
  /** lease of queues registered without `leaseMs` (default 30 s) */
  leaseMs?: number;
  /**
   * At start, take back every leased job at once instead of waiting for the leases to run out: only
   * where no other process can share the database (embedded PGlite, whose directory is locked).
   */
  reclaimOnStart?: boolean;
  /** finished jobs (and their results) are deleted this long after they finished (default 30 days) */
  retentionMs?: number;
  /** how long stop() waits for aborted handlers before giving their leases back (default 5 s) */
  stopGraceMs?: number;
}

const ENQUEUED = topic('jobs.enqueued', z.object({ queue: z.string() }));
const CANCELLED = topic('jobs.cancelled', z.object({ id: z.string(), queue: z.string() }));
const DEFAULT_MAX_ATTEMPTS = 5;

export function createJobEngine(deps: JobEngineDeps): JobEngine & {
  readonly workerId: string;
  /** jobs this process is running now, per queue */
  running(queue: string): number;
} {
  const { db, log, bus } = deps;
  const workerId = deps.workerId ?? `${hostname()}:${process.pid}:${newId('job').slice(-6)}`;
  const metrics: JobMetrics | undefined = deps.registry ? createJobMetrics(deps.registry, db) : undefined;
  const workers = new Map<string, QueueWorker>();
  const defaults = new Map<string, number>();
  let started = false;
  let reapTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;

  async function sweep() {
    try {
      let deleted = 0;
      while (started) {
        const n = await deleteFinished(db, deps.retentionMs ?? 30 * 86_400_000);
        deleted += n;
        if (n === 0) break;
      }
      if (deleted > 0) log.info({ deleted }, 'finished jobs past their retention deleted');
    } catch (err) {
      log.warn({ err: errorText(err) }, 'job retention sweep failed');
    }
  }

  async function reap(all = false) {
    try {
      const ids = [...workers.values()].flatMap((w) => w.runningIds());
      const rows = await reapExpired(db, all, { worker: workerId, ids });
      for (const row of rows) {
        log.warn({ job_id: row.id, queue: row.queue, status: row.status }, 'job lease expired; taken back');
        if (row.status === 'failed') metrics?.failed.inc({ queue: row.queue });
        if (row.status === 'queued') workers.get(row.queue)?.nudge();
      }
    } catch (err) {
      log.warn({ err: errorText(err) }, 'job reaper failed');
    }
  }

  bus?.subscribe(ENQUEUED, ({ queue }) => workers.get(queue)?.nudge());
  bus?.subscribe(CANCELLED, ({ id, queue }) => workers.get(queue)?.abort(id, 'cancelled'));

  return {
    workerId,
    running: (queue) => workers.get(queue)?.runningCount ?? 0,

    register(queue: string, opts: QueueOptions, handler: JobHandler) {
      if (workers.has(queue)) throw new Error(`job queue ${queue} is registered already`);
      if (!(opts.concurrency >= 1)) throw new Error(`job queue ${queue} needs a concurrency of at least 1`);
      const leased = { ...opts, leaseMs: opts.leaseMs ?? deps.leaseMs };
      const worker = createQueueWorker({ db, log, worker: workerId, queue, opts: leased, handler, metrics });
      workers.set(queue, worker);
      if (opts.maxAttempts !== undefined) defaults.set(queue, opts.maxAttempts);
      if (started) worker.start();
    },

    async enqueue(spec: JobSpec, tx?: DbOrTx): Promise<JobRow> {
      const row = await insertJob(tx ?? db, spec, defaults.get(spec.queue) ?? DEFAULT_MAX_ATTEMPTS);
      // inside a caller's transaction the row is seen once it commits: the next poll finds it then
      workers.get(spec.queue)?.nudge();
      if (bus) void bus.publish(ENQUEUED, { queue: spec.queue }).catch(() => {});
      return row;
    },

    async cancel(id: string): Promise<JobRow | null> {
      const row = await markCancelled(db, id);
      if (row?.status === 'cancelling') {
        if (!workers.get(row.queue)?.abort(id, 'cancelled') && bus) {
          void bus.publish(CANCELLED, { id, queue: row.queue }).catch(() => {});
        }
      }
      return row;
    },

    get: (id: string) => findJob(db, id),

    start() {
      if (started) return;
      started = true;
      // taken back before the first claim, so a job left by a killed process runs again at once
      void reap(deps.reclaimOnStart ?? false).then(() => {
        if (started) for (const worker of workers.values()) worker.start();
      });
      reapTimer = setInterval(() => void reap(), deps.reapMs ?? 1_000);
      sweepTimer = setInterval(() => void sweep(), 3_600_000);
      sweepTimer.unref();
      setTimeout(() => void sweep(), 60_000).unref();
    },

    async stop() {
      if (!started) return;
      started = false;
      clearInterval(reapTimer);
      clearInterval(sweepTimer);
      await Promise.all([...workers.values()].map((w) => w.stop(deps.stopGraceMs ?? 5_000)));
    },
  };
}
