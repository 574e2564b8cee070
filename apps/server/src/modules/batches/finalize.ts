import { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { newId } from '../../ids.ts';
import type { BatchRow } from './dto.ts';
import type { BatchFiles } from './files-port.ts';
import { readLines } from './line-store.ts';
import { batches } from './schema.ts';

const UNFINISHED = {
  expired: {
    code: 'batch_expired',
    message: 'This request could not be executed before the completion window expired.',
  },
  cancelled: {
    code: 'batch_cancelled',
    message: 'This request was not executed because the batch was cancelled.',
  },
} as const;

/**
 * Writes the output file (answered lines) and the error file (failed lines, and for an expired or
 * cancelled batch the lines never run), from the stored answers in file order, streamed; then the
 * batch takes its end status. Each file id is stored as soon as it exists, so a finalize taken
 * over after a crash does not write it again.
 */
export async function finalizeBatch(
  db: Db,
  files: BatchFiles,
  batch: BatchRow,
  end: 'completed' | 'expired' | 'cancelled',
): Promise<BatchRow> {
  const scope = { orgId: batch.orgId, projectId: batch.projectId };
  const expires = batch.outputExpiresAfterS ? { expiresAfterSeconds: batch.outputExpiresAfterS } : {};
  let row = batch;
  const jsonl = (pick: (l: { state: string; customId: string; result: unknown }) => unknown | null) =>
    Readable.from(
      (async function* () {
        for await (const l of readLines(db, batch.id)) {
          const v = pick(l);
          if (v !== null) yield `${JSON.stringify(v)}\n`;
        }
      })(),
    );
  let outputs = 0;
  let errors = 0;
  for await (const l of readLines(db, batch.id)) {
    if (l.state === 'completed') outputs++;
    else errors++;
  }
  if (!row.outputFileId && outputs > 0) {
    const f = await files.create({
      ...scope,
      purpose: 'batch_output',
      filename: `${batch.id}_output.jsonl`,
      body: jsonl((l) => (l.state === 'completed' ? l.result : null)),
      ...expires,
    });
    [row] = (await db
      .update(batches)
      .set({ outputFileId: f.id })
      .where(eq(batches.id, batch.id))
      .returning()) as [BatchRow];
  }
  if (!row.errorFileId && errors > 0) {
    const unfinished = end === 'completed' ? null : UNFINISHED[end];
    const f = await files.create({
      ...scope,
      purpose: 'batch_output',
      filename: `${batch.id}_error.jsonl`,
      body: jsonl((l) => {
        if (l.state === 'failed') return l.result;
        if (l.state === 'pending' && unfinished)
          return {
            id: `batch_req_${newId('req').slice(4)}`,
            custom_id: l.customId,
            response: null,
            error: unfinished,
          };
        return null;
      }),
      ...expires,
    });
    [row] = (await db
      .update(batches)
      .set({ errorFileId: f.id })
      .where(eq(batches.id, batch.id))
      .returning()) as [BatchRow];
  }
  const now = new Date();
  const unfinishedCount = Math.max(0, row.total - row.completed - row.failed);
  const [done] = await db
    .update(batches)
    .set({
      status: end,
      failed: row.failed + (end === 'completed' ? 0 : unfinishedCount),
      ...(end === 'completed'
        ? { completedAt: now }
        : end === 'expired'
          ? { expiredAt: now }
          : { cancelledAt: now }),
    })
    .where(eq(batches.id, batch.id))
    .returning();
  return done!;
}
