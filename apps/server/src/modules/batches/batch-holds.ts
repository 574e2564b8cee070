import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import type { Hold, HoldBook } from '../limits/index.ts';

/** Told on the bus when a batch starts or ends holding: every replica reads the holds again at once. */
export const HOLDS_CHANGED = 'batches.holds';
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

  async function read(): Promise<void> {
    const rows = (
      (await db.execute(sql`
        select id, org_id, project_id, key_id, hold_model, estimate_tokens, estimate_cost_micros,
               total, completed, failed
        from batches
        where status = 'in_progress' and expires_at > now() and hold_model is not null
          and (estimate_tokens > 0 or estimate_cost_micros > 0)`)) as { rows: Record<string, unknown>[] }
    ).rows;
    const holds: Hold[] = rows.map((r) => {
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
    /** After a batch started or ended: this replica at once, the others through the bus. */
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
