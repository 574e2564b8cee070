import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { changeTopic } from '../../events/change-topic.ts';
import { createReplicatedCache } from '../../events/replicated-cache.ts';
import type { Hold, HoldBook } from '../limits/index.ts';
import type { BatchRow } from './dto.ts';

/** Told on the bus when a batch starts or ends holding: every replica reads the holds again at once. */
export const HOLDS_CHANGED = changeTopic('batches.holds');
/** Holds only shrink while lines are answered; a replica reads them this often meanwhile. */
const REFRESH_MS = 2_000;

async function readHolds(db: Db): Promise<[string, Hold][]> {
  const rows = (
    (await db.execute(sql`
      select id, org_id, project_id, key_id, hold_model, estimate_tokens, estimate_cost_micros,
             total, completed, failed
      from batches
      where status = 'in_progress' and expires_at > now() and hold_model is not null
        and (estimate_tokens > 0 or estimate_cost_micros > 0)`)) as { rows: Record<string, unknown>[] }
  ).rows;
  return rows.map((r) => {
    const total = Number(r.total);
    const left = total > 0 ? Math.max(0, total - Number(r.completed) - Number(r.failed)) / total : 0;
    const hold: Hold = {
      id: r.id as string,
      orgId: r.org_id as string,
      projectId: r.project_id as string,
      keyId: r.key_id as string,
      model: r.hold_model as string,
      tokens: Math.ceil(Number(r.estimate_tokens) * left),
      costMicros: Math.ceil(Number(r.estimate_cost_micros) * left),
    };
    return [hold.id, hold];
  });
}

/**
 * Keeps the limits' hold book equal to the running batches: each holds its estimate times the
 * share of its lines not answered yet (so what lines spend is counted once: by their own settles,
 * as the hold shrinks), on the model and key it runs as. Read from the database, so a restart or
 * another replica sees the same holds; a replicated cache, so a hold added or dropped here is not
 * undone by a read that started before.
 */
export function createBatchHolds(deps: { db: Db; book: HoldBook; bus: Bus; log: Logger }) {
  const holds = createReplicatedCache<Hold>({
    name: 'batch holds',
    bus: deps.bus,
    topic: HOLDS_CHANGED,
    log: deps.log,
    loadAll: () => readHolds(deps.db),
    onChange: (entries) => deps.book.replace([...entries.values()]),
    resyncIntervalMs: REFRESH_MS,
  });

  return {
    /** Reads the holds now. */
    refresh: () => holds.resync(),
    /**
     * A batch starts holding now, in this replica, as soon as the transaction that starts it has
     * committed (before any request here can see it running); other replicas read it on the bus.
     */
    add(batch: BatchRow): void {
      if (!batch.holdModel || (batch.estimateTokens <= 0 && batch.estimateCostMicros <= 0)) return;
      holds.put(batch.id, {
        id: batch.id,
        orgId: batch.orgId,
        projectId: batch.projectId,
        keyId: batch.keyId,
        model: batch.holdModel,
        tokens: batch.estimateTokens,
        costMicros: batch.estimateCostMicros,
      });
    },
    /** A batch stopped running (finalizing, cancelling): it holds nothing here from now on. */
    drop: (id: string): void => holds.put(id, null),
    /** After a batch started or ended: this replica reads the holds at once, the others through the bus. */
    changed: () => holds.changed(),
    start: () => holds.start(),
    stop: () => holds.close(),
  };
}

export type BatchHolds = ReturnType<typeof createBatchHolds>;
