import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { GatewayContext } from '../gateway/index.ts';
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
  /** validation passed: the batch is in_progress in `tx`; its line jobs go in the same transaction */
  started: (tx: DbOrTx, batch: BatchRow, total: number) => Promise<void>;
  /** ... and that transaction committed */
  committed: (batch: BatchRow) => void;
  /** the batch stopped running: it holds no quota from now on */
  stopped: (id: string) => void;
}

/** A step that must wait (lines still in flight): look again at this time. */
export interface StepOutcome {
  again: Date | null;
}

const AGAIN_MS = 500;

/**
 * The batch-level steps, run by one engine job at a time per batch: validating → in_progress |
 * failed; in_progress → finalizing when no line is left, or once the window has passed;
 * cancelling → cancelled once no line is in flight; finalizing → its end status, files written.
 * Each step reads the batch as it is now, so running it twice (a restart) does it once.
 */
export function createBatchSteps(deps: BatchStepsDeps) {
  const { db, gw, files, log } = deps;

  async function finish(row: BatchRow, end: 'completed' | 'expired' | 'cancelled') {
    if (row.status !== 'finalizing') {
      const [f] = await db
        .update(batches)
        .set({ status: 'finalizing', finalizingAt: new Date(), endStatus: end })
        .where(eq(batches.id, row.id))
        .returning();
      row = f!;
    }
    deps.stopped(row.id);
    const done = await finalizeBatch(db, files, row, end);
    await deps
      .emit?.(row.orgId, `batch.${end}`, { id: row.id }, row.id)
      .catch((err) => log.warn({ err, batch: row.id }, 'batch webhook event not emitted'));
    log.info(
      { batch: row.id, status: done.status, counts: toBatchDto(done).request_counts },
      'batch finished',
    );
  }

  const later = (): StepOutcome => ({ again: new Date(Date.now() + AGAIN_MS) });
  const done: StepOutcome = { again: null };

  return {
    /** One step for the batch as it is now. */
    async step(id: string, heartbeat: () => Promise<void>): Promise<StepOutcome> {
      const [row] = await db.select().from(batches).where(eq(batches.id, id));
      if (!row) return done;
      const now = Date.now();
      if (row.status === 'validating') {
        if (row.expiresAt.getTime() <= now) {
          await finish(row, 'expired');
          return done;
        }
        const failed = await validateBatch(db, files, gw, row, heartbeat, deps.started, deps.committed);
        if (failed)
          await deps
            .emit?.(row.orgId, 'batch.failed', { id: row.id }, row.id)
            .catch((err) => log.warn({ err, batch: row.id }, 'batch webhook event not emitted'));
        return done;
      }
      if (row.status === 'finalizing') {
        await finish(row, (row.endStatus as 'completed') ?? 'completed');
        return done;
      }
      if (row.status === 'cancelling') {
        if ((await liveClaims(db, row.id)) > 0) return later();
        await finish(row, 'cancelled');
        return done;
      }
      if (row.status !== 'in_progress') return done;
      if (row.expiresAt.getTime() <= now) {
        if ((await liveClaims(db, row.id)) > 0) return later();
        await finish(row, 'expired');
        return done;
      }
      if (!(await hasPendingLines(db, row.id))) await finish(row, 'completed');
      return done;
    },
  };
}
