import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { type BatchRow, toBatchDto } from './dto.ts';
import type { BatchFiles, EmitEvent } from './files-port.ts';
import { finalizeBatch } from './finalize.ts';
import { hasPendingLines, liveClaims } from './line-store.ts';
import { batches } from './schema.ts';
import { validateBatch } from './validate-batch.ts';

export interface BatchStepsDeps {
  db: Db;
  gw: GatewayContext;
  files: BatchFiles;
  log: Logger;
  emit?: EmitEvent | undefined;
  /** this process, as lease owner */
  owner: string;
  leaseMs: number;
  /** a batch reached its end status */
  finished: (id: string) => void;
}

/**
 * The batch-level steps, each under a lease on the batch row so one replica takes it at a time (a
 * dead replica's lease runs out): validating → in_progress | failed; in_progress → finalizing when
 * no line is left, or once the window has passed; cancelling → cancelled once no line is in flight;
 * finalizing → its end status, files written.
 */
export function createBatchSteps(deps: BatchStepsDeps) {
  const { db, gw, files, log, owner, leaseMs } = deps;
  const until = sql`now() + ${leaseMs} * interval '1 millisecond'`;
  const free = or(isNull(batches.leaseUntil), lt(batches.leaseUntil, sql`now()`));

  /** Takes the batch's lease when it is free; null when another replica holds it. */
  async function lease(id: string): Promise<BatchRow | null> {
    const [row] = await db
      .update(batches)
      .set({ leaseOwner: owner, leaseUntil: until })
      .where(and(eq(batches.id, id), free))
      .returning();
    return row ?? null;
  }

  const release = (id: string) =>
    db
      .update(batches)
      .set({ leaseOwner: null, leaseUntil: null })
      .where(and(eq(batches.id, id), eq(batches.leaseOwner, owner)));

  async function finish(row: BatchRow, end: 'completed' | 'expired' | 'cancelled') {
    if (row.status !== 'finalizing') {
      const [f] = await db
        .update(batches)
        .set({ status: 'finalizing', finalizingAt: new Date(), endStatus: end })
        .where(eq(batches.id, row.id))
        .returning();
      row = f!;
    }
    const done = await finalizeBatch(db, files, row, end);
    deps.finished(row.id);
    await deps
      .emit?.(row.orgId, `batch.${end}`, { id: row.id }, row.id)
      .catch((err) => log.warn({ err, batch: row.id }, 'batch webhook event not emitted'));
    log.info(
      { batch: row.id, status: done.status, counts: toBatchDto(done).request_counts },
      'batch finished',
    );
  }

  /** One batch-level step for a batch whose lease we hold. */
  async function step(row: BatchRow): Promise<void> {
    const now = Date.now();
    if (row.status === 'validating') {
      if (row.expiresAt.getTime() <= now) return void (await finish(row, 'expired'));
      const failed = await validateBatch(db, files, gw, row, () => extendLease(row.id));
      if (failed)
        await deps
          .emit?.(row.orgId, 'batch.failed', { id: row.id }, row.id)
          .catch((err) => log.warn({ err, batch: row.id }, 'batch webhook event not emitted'));
      return;
    }
    if (row.status === 'finalizing') return finish(row, (row.endStatus as 'completed') ?? 'completed');
    if (row.status === 'cancelling') {
      if ((await liveClaims(db, row.id)) > 0) return;
      return finish(row, 'cancelled');
    }
    // in_progress
    if (row.expiresAt.getTime() <= now) {
      if ((await liveClaims(db, row.id)) > 0) return;
      return finish(row, 'expired');
    }
    if (!(await hasPendingLines(db, row.id))) return finish(row, 'completed');
  }

  const extendLease = (id: string) =>
    db
      .update(batches)
      .set({ leaseUntil: until })
      .where(and(eq(batches.id, id), eq(batches.leaseOwner, owner)))
      .then(() => undefined);

  return {
    /** Looks at the batches that need a step and takes each one that no replica holds. */
    async run(stopped: () => boolean): Promise<void> {
      const candidates = await db
        .select({ id: batches.id })
        .from(batches)
        .where(and(inArray(batches.status, ['validating', 'in_progress', 'finalizing', 'cancelling']), free))
        .orderBy(batches.createdAt)
        .limit(20);
      for (const { id } of candidates) {
        if (stopped()) return;
        const row = await lease(id);
        if (!row) continue;
        try {
          await step(row);
        } catch (err) {
          log.error({ err, batch: id }, 'batch step failed; retried on the next tick');
        } finally {
          await release(id).catch(() => {});
        }
      }
    },
  };
}
