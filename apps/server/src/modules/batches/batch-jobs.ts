import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { GatewayContext } from '../gateway/index.ts';
import type { JobEngine } from '../jobs/index.ts';
import type { BatchHolds } from './batch-holds.ts';
import { createBatchSteps } from './batch-steps.ts';
import type { BatchRow } from './dto.ts';
import type { BatchFiles, EmitEvent } from './files-port.ts';
import { hasPendingLines } from './line-store.ts';
import { runChunk } from './run-chunk.ts';
import { batches } from './schema.ts';

/** the batch-level steps: validate, finalize, expire, cancel (one at a time per batch) */
export const STEP_QUEUE = 'batches.step';
/** a range of a batch's lines */
export const LINES_QUEUE = 'batches.lines';
/** lines per engine job: a 50,000-line batch is 500 jobs that any replica may take */
export const CHUNK_LINES = 100;
/** lines of one job running at once */
const LINES_PER_JOB = 8;

export type StepKind = 'start' | 'done' | 'expire' | 'cancel';

const stepPayload = z.object({ batch_id: z.string(), kind: z.string(), round: z.number().int() });
const linesPayload = z.object({
  batch_id: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  round: z.number().int(),
});

export interface BatchJobsDeps {
  db: Db;
  jobs: JobEngine;
  gw: GatewayContext;
  files: BatchFiles;
  log: Logger;
  emit?: EmitEvent | undefined;
  /** lines at once in this process (0: this process runs no batch work) */
  concurrency: number;
  /** lines of one org at once, across replicas */
  perOrgConcurrency: number;
  /** how often an idle worker looks for batch work */
  pollMs: number;
  /** how long a claim holds without renewal (jobs and lines) */
  leaseMs: number;
  /** the running batches' quota holds, read again after a step */
  holds: BatchHolds;
  /** a key as it is now: null once revoked or expired */
  currentKey: (keyId: string) => KeyPrincipal | null;
}

/**
 * Batches on the job engine. Each batch is a chain of jobs: a step job validates it and, in the
 * same transaction that makes it in_progress, enqueues one job per range of lines and a step for
 * the end of its window; the job that answers the last line enqueues the step that finalizes it;
 * a cancel enqueues the step that waits for lines in flight. Every job is keyed (dedupe) by batch,
 * kind and round, so no step is queued twice, and every step reads the batch as it is now, so a
 * job run again after a crash does its work once.
 */
export function createBatchJobs(deps: BatchJobsDeps) {
  const { db, jobs, log } = deps;
  const perJob = Math.max(1, Math.min(LINES_PER_JOB, deps.concurrency));

  function enqueueStep(
    tx: DbOrTx,
    batch: Pick<BatchRow, 'id' | 'orgId'>,
    kind: StepKind,
    runAt?: Date,
    round = 0,
  ) {
    return jobs.enqueue(
      {
        queue: STEP_QUEUE,
        orgId: batch.orgId,
        payload: { batch_id: batch.id, kind, round },
        dedupeKey: `${batch.id}:${kind}:${round}`,
        maxAttempts: 20,
        priority: 1,
        ...(runAt ? { runAt } : {}),
      },
      tx,
    );
  }

  function enqueueLines(
    tx: DbOrTx,
    batch: Pick<BatchRow, 'id' | 'orgId'>,
    from: number,
    to: number,
    runAt?: Date,
    round = 0,
  ) {
    return jobs.enqueue(
      {
        queue: LINES_QUEUE,
        orgId: batch.orgId,
        payload: { batch_id: batch.id, from, to, round },
        dedupeKey: `${batch.id}:${from}:${round}`,
        maxAttempts: 20,
        ...(runAt ? { runAt } : {}),
      },
      tx,
    );
  }

  const steps = createBatchSteps({
    db,
    gw: deps.gw,
    files: deps.files,
    log,
    emit: deps.emit,
    // the hold applies from the moment the batch is seen running (before the next read of holds)
    committed: (batch) => deps.holds.add(batch),
    stopped: (id) => deps.holds.drop(id),
    async started(tx, batch, total) {
      for (let from = 1; from <= total; from += CHUNK_LINES)
        await enqueueLines(tx, batch, from, Math.min(total, from + CHUNK_LINES - 1));
      await enqueueStep(tx, batch, 'expire', batch.expiresAt);
    },
  });

  if (deps.concurrency > 0) {
    jobs.register(
      STEP_QUEUE,
      {
        concurrency: 2,
        pollMs: deps.pollMs,
        leaseMs: deps.leaseMs,
        backoffMs: (n) => Math.min(30_000, 500 * 2 ** n),
      },
      async (ctx) => {
        const p = stepPayload.parse(ctx.job.payload);
        const out = await steps.step(p.batch_id, () => ctx.heartbeat());
        // a batch started holding its estimate, or ended and holds nothing now
        await deps.holds.changed();
        if (out.again)
          await enqueueStep(
            db,
            { id: p.batch_id, orgId: ctx.job.orgId ?? '' },
            p.kind as StepKind,
            out.again,
            p.round + 1,
          );
        return { waiting: Boolean(out.again) };
      },
    );
    jobs.register(
      LINES_QUEUE,
      {
        concurrency: Math.max(1, Math.ceil(deps.concurrency / perJob)),
        perOrgConcurrency: Math.max(1, Math.ceil(deps.perOrgConcurrency / perJob)),
        pollMs: deps.pollMs,
        leaseMs: deps.leaseMs,
      },
      async (ctx) => {
        const p = linesPayload.parse(ctx.job.payload);
        const range = { batchId: p.batch_id, orgId: ctx.job.orgId ?? '', from: p.from, to: p.to };
        const out = await runChunk(
          { db, gw: deps.gw, log, concurrency: perJob, leaseMs: deps.leaseMs, currentKey: deps.currentKey },
          ctx,
          range,
        );
        if (out.stopped) return { lines: 'batch not running' };
        const batch = { id: p.batch_id, orgId: range.orgId };
        if (out.retryAt && (await stillRunning(p.batch_id))) {
          // lines refused for now (429, 503) or held by another run: this range again, later
          await enqueueLines(db, batch, p.from, p.to, out.retryAt, p.round + 1);
          return { lines: 'some wait for a retry' };
        }
        if (!(await hasPendingLines(db, p.batch_id))) await enqueueStep(db, batch, 'done');
        return { lines: 'answered' };
      },
    );
  }

  async function stillRunning(id: string): Promise<boolean> {
    const [row] = await db.select({ status: batches.status }).from(batches).where(eq(batches.id, id));
    return row?.status === 'in_progress';
  }

  return { enqueueStep };
}

export type BatchJobs = ReturnType<typeof createBatchJobs>;
