import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { LATENCY_BUCKETS_MS, usageRollups } from './rollups-schema.ts';
import { usageEvents } from './schema.ts';

export type UsageRecord = typeof usageEvents.$inferInsert;

export const DEFAULT_CURRENCY = 'USD';

type RollupRow = typeof usageRollups.$inferInsert;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function latencyBucket(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/**
 * Appends usage events (a request id already written is skipped) and adds exactly the events that
 * were new to the hourly and daily rollups, in the caller's transaction.
 * Returns how many events were new.
 */
export async function recordUsage(tx: DbOrTx, records: UsageRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  // Only the keys come back (cheaper than the rows); the rollups are built from the records that were new.
  const returned = await tx
    .insert(usageEvents)
    .values(records)
    .onConflictDoNothing()
    .returning({ requestId: usageEvents.requestId });
  const fresh = new Set(returned.map((r) => r.requestId));
  // A request id twice in one batch is inserted once: count it once.
  const inserted = records.filter((r) => fresh.delete(r.requestId));
  if (inserted.length === 0) return 0;

  const rollups = new Map<string, RollupRow>();
  for (const e of inserted) {
    for (const [granularity, size] of [
      ['hour', HOUR],
      ['day', DAY],
    ] as const) {
      const bucketStart = new Date(Math.floor(e.createdAt.getTime() / size) * size);
      const currency = e.currency ?? DEFAULT_CURRENCY;
      const prompt = e.promptTokens ?? 0;
      const completion = e.completionTokens ?? 0;
      const key = [
        e.orgId,
        granularity,
        bucketStart.getTime(),
        e.projectId,
        e.keyId,
        e.modelName,
        currency,
      ].join('\u0000');
      let r = rollups.get(key);
      if (!r) {
        r = {
          granularity,
          bucketStart,
          orgId: e.orgId,
          projectId: e.projectId,
          keyId: e.keyId,
          modelName: e.modelName,
          currency,
          requests: 0,
          errors: 0,
          promptTokens: 0,
          completionTokens: 0,
          cachedTokens: 0,
          reasoningTokens: 0,
          costNanos: 0,
          latencyMsSum: 0,
          latencyHist: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
        };
        rollups.set(key, r);
      }
      r.requests += 1;
      if (e.outcome !== 'success') r.errors += 1;
      r.promptTokens += prompt;
      r.completionTokens += completion;
      r.cachedTokens += e.cachedTokens ?? 0;
      r.reasoningTokens += e.reasoningTokens ?? 0;
      r.costNanos += e.costNanos ?? 0;
      r.latencyMsSum += e.latencyMs;
      r.latencyHist[latencyBucket(e.latencyMs)]! += 1;
    }
  }
  // A stable order keeps concurrent writers from deadlocking on the same rollup rows.
  const rows = [...rollups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  const add = (column: string) => sql.raw(`usage_rollups.${column} + excluded.${column}`);
  await tx
    .insert(usageRollups)
    .values(rows)
    .onConflictDoUpdate({
      target: [
        usageRollups.orgId,
        usageRollups.granularity,
        usageRollups.bucketStart,
        usageRollups.projectId,
        usageRollups.keyId,
        usageRollups.modelName,
        usageRollups.currency,
      ],
      set: {
        requests: add('requests'),
        errors: add('errors'),
        promptTokens: add('prompt_tokens'),
        completionTokens: add('completion_tokens'),
        cachedTokens: add('cached_tokens'),
        reasoningTokens: add('reasoning_tokens'),
        costNanos: add('cost_nanos'),
        latencyMsSum: add('latency_ms_sum'),
        latencyHist: sql`array(select coalesce(a, 0) + coalesce(b, 0) from unnest(usage_rollups.latency_hist, excluded.latency_hist) as t(a, b))`,
      },
    });
  return inserted.length;
}
