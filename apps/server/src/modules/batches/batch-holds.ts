import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { type Bus, topic } from '../../events/bus.ts';
import type { Hold, HoldBook } from '../limits/index.ts';
import type { BatchRow } from './dto.ts';

/** Told on the bus when a batch starts or ends holding: every replica reads the holds again at once. */
export const HOLDS_CHANGED = topic('batches.holds', z.object({}));
/** Holds only shrink while lines are answered; a replica reads them this often meanwhile. */
const REFRESH_MS = 2_000;

/**
 * Keeps the limits' hold book equal to the running batches: each holds its estimate times the
 * share of its lines not answered yet (so what lines spend is counted once: by their own settles,
 * as the hold shrinks), on the model and key it runs as. Read from the database, so a restart or
 * another replica sees the same holds.
 */
export function createBatchHolds(deps: { db: Db; book: HoldBook; bus?: Bus | undefined; log: Logger }) {
  const { db, book, bus, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> | null = null;
  /** holds added here since some read started: a read that began before one was added may miss it */
  const added = new Map<string, { hold: Hold; seq: number }>();
  /** ... and holds dropped here since: such a read may still see the batch running */
  const dropped = new Map<string, number>();
  let seq = 0;

  async function read(): Promise<void> {
    const start = ++seq;
    const rows = (
      (await db.execute(sql`
        select id, org_id, project_id, key_id, hold_model, estimate_tokens, estimate_cost_micros,
               total, completed, failed
        from batches
        where status = 'in_progress' and expires_at > now() and hold_model is not null
          and (estimate_tokens > 0 or estimate_cost_micros > 0)`)) as { rows: Record<string, unknown>[] }
    ).rows;
    let holds: Hold[] = rows.map((r) => {
      const total = Number(r.total);
      const left = total > 0 ? Math.max(0, total - Number(r.completed) - Number(r.failed)) / total : 0;
      return {
        id: r.id as string,
        orgId: r.org_id as string,
        projectId: r.project_id as string,
        keyId: r.key_id as string,
        model: r.hold_model as string,
        tokens: Math.ceil(Number(r.estimate_tokens) * left),
        costMicros: Math.ceil(Number(r.estimate_cost_micros) * left),
      };
    });
    for (const [id, at] of dropped) {
      if (at < start) dropped.delete(id);
      else holds = holds.filter((h) => h.id !== id);
    }
    for (const [id, a] of added) {
      if (a.seq < start) added.delete(id);
      else if (!holds.some((h) => h.id === id)) holds.push(a.hold);
    }
    book.replace(holds);
  }

  /** Reads the holds now (one read at a time; a call meanwhile waits for the next). */
  async function refresh(): Promise<void> {
    while (reading) await reading;
    reading = read()
      .catch((err) => log.warn({ err }, 'batch holds not read; the last ones stay'))
      .finally(() => {
        reading = null;
      });
    await reading;
  }

  bus?.subscribe(HOLDS_CHANGED, () => void refresh());

  return {
    refresh,
    /**
     * A batch starts holding now, in this replica, as soon as the transaction that starts it has
     * committed (before any request here can see it running); other replicas read it on the bus.
     */
    add(batch: BatchRow): void {
      if (!batch.holdModel || (batch.estimateTokens <= 0 && batch.estimateCostMicros <= 0)) return;
      const hold: Hold = {
        id: batch.id,
        orgId: batch.orgId,
        projectId: batch.projectId,
        keyId: batch.keyId,
        model: batch.holdModel,
        tokens: batch.estimateTokens,
        costMicros: batch.estimateCostMicros,
      };
      added.set(hold.id, { hold, seq: ++seq });
      dropped.delete(hold.id);
      book.replace([...book.list().filter((h) => h.id !== batch.id), hold]);
    },
    /** After a batch started or ended: this replica at once, the others through the bus. */
    /** A batch stopped running (finalizing, cancelling): it holds nothing here from now on. */
    drop(id: string): void {
      added.delete(id);
      dropped.set(id, ++seq);
      book.replace(book.list().filter((h) => h.id !== id));
    },
    async changed(): Promise<void> {
      await refresh();
      if (bus) await bus.publish(HOLDS_CHANGED, {}).catch(() => {});
    },
    async start(): Promise<void> {
      await refresh();
      timer = setInterval(() => void refresh(), REFRESH_MS);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

export type BatchHolds = ReturnType<typeof createBatchHolds>;
