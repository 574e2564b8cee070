import { bigint, boolean, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const USAGE_OUTCOMES = [
  'success',
  'upstream_error',
  'client_abort',
  'timeout',
  'rejected',
  // answered from the response cache (not an error)
  'cache_hit',
] as const;

/**
 * One row per gateway request however it ended; idempotent by request id (a request's created_at
 * is fixed when it starts, so a re-written row hits the same key). Append-only, partitioned by month.
 */
export const usageEvents = pgTable(
  'usage_events',
  {
    requestId: text('request_id').notNull(),
    orgId: text('org_id').notNull(),
    projectId: text('project_id').notNull(),
    keyId: text('key_id').notNull(),
    modelId: text('model_id'),
    modelName: text('model_name').notNull(),
    versionId: text('version_id'),
    providerId: text('provider_id'),
    upstreamModel: text('upstream_model'),
    endpoint: text('endpoint').notNull(),
    outcome: text('outcome', { enum: USAGE_OUTCOMES }).notNull(),
    httpStatus: integer('http_status').notNull(),
    errorCode: text('error_code'),
    stream: boolean('stream').notNull().default(false),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    cachedTokens: integer('cached_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    estimated: boolean('estimated').notNull().default(false),
    /** media units (/v1/images, /v1/audio): images made, their priced `size:quality`, audio ms, characters spoken */
    images: integer('images').notNull().default(0),
    imageSize: text('image_size'),
    audioMs: integer('audio_ms').notNull().default(0),
    characters: integer('characters').notNull().default(0),
    attempts: integer('attempts').notNull().default(1),
    fallbackFrom: text('fallback_from'),
    latencyMs: integer('latency_ms').notNull(),
    ttftMs: integer('ttft_ms'),
    /** cost at the price in effect when the request was made (0 when the model has no price) */
    costNanos: bigint('cost_nanos', { mode: 'number' }).notNull().default(0),
    currency: text('currency'),
    priceId: text('price_id'),
    rawUsage: jsonb('raw_usage'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    // created_at is part of the key because the table is partitioned by month on it (0006).
    // No other index: every write pays for each one (a third of an event's cost on the embedded
    // database), and reads go to the rollups; a period's raw events are its partitions.
    primaryKey({ name: 'usage_events_request_created_pk', columns: [t.requestId, t.createdAt] }),
  ],
);
