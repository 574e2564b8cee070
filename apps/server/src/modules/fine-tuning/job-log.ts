import { and, eq } from 'drizzle-orm';
import { ulid } from 'ulid';
import type { DbOrTx } from '../../db/client.ts';
import { fineTuningEvents } from './schema.ts';

export const newJobId = () => `ftjob-${ulid().toLowerCase()}`;
export const newEventId = () => `ftevent-${ulid().toLowerCase()}`;
export const newCheckpointId = () => `ftckpt-${ulid().toLowerCase()}`;

/** Appends one event to a job's log; with a dedupe key a second append of it is dropped. */
export async function addEvent(
  db: DbOrTx,
  jobId: string,
  message: string,
  opts: {
    level?: 'info' | 'warn' | 'error';
    type?: 'message' | 'metrics';
    data?: Record<string, unknown>;
    dedupeKey?: string;
  } = {},
): Promise<void> {
  await db
    .insert(fineTuningEvents)
    .values({
      id: newEventId(),
      jobId,
      level: opts.level ?? 'info',
      type: opts.type ?? 'message',
      message,
      data: opts.data ?? null,
      dedupeKey: opts.dedupeKey ?? null,
    })
    .onConflictDoNothing();
}

export async function hasEvent(db: DbOrTx, jobId: string, dedupeKey: string): Promise<boolean> {
  const [row] = await db
    .select({ id: fineTuningEvents.id })
    .from(fineTuningEvents)
    .where(and(eq(fineTuningEvents.jobId, jobId), eq(fineTuningEvents.dedupeKey, dedupeKey)));
  return Boolean(row);
}
