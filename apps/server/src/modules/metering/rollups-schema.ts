import { bigint, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Hourly and daily totals kept incrementally as usage events are written, so usage queries and
 * bills never scan the event table. `latency_hist` counts requests per latency bucket
 * (LATENCY_BUCKETS_MS) for percentiles.
 */
export const usageRollups = pgTable(
  'usage_rollups',
  {
    granularity: text('granularity', { enum: ['hour', 'day'] }).notNull(),
    bucketStart: timestamp('bucket_start', { withTimezone: true, mode: 'date' }).notNull(),
    orgId: text('org_id').notNull(),
    projectId: text('project_id').notNull(),
    keyId: text('key_id').notNull(),
    modelName: text('model_name').notNull(),
    currency: text('currency').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull(),
    errors: bigint('errors', { mode: 'number' }).notNull(),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull(),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull(),
    cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull(),
    reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull(),
    images: bigint('images', { mode: 'number' }).notNull().default(0),
    audioMs: bigint('audio_ms', { mode: 'number' }).notNull().default(0),
    characters: bigint('characters', { mode: 'number' }).notNull().default(0),
    costNanos: bigint('cost_nanos', { mode: 'number' }).notNull(),
    latencyMsSum: bigint('latency_ms_sum', { mode: 'number' }).notNull(),
    latencyHist: integer('latency_hist').array().notNull(),
  },
  (t) => [
    primaryKey({
      name: 'usage_rollups_pk',
      columns: [t.orgId, t.granularity, t.bucketStart, t.projectId, t.keyId, t.modelName, t.currency],
    }),
  ],
);

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is open-ended. */
export const LATENCY_BUCKETS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000] as const;
