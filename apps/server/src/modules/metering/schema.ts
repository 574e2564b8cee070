import { boolean, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const USAGE_OUTCOMES = ['success', 'upstream_error', 'client_abort', 'timeout', 'rejected'] as const;

/** One row per gateway request however it ended; idempotent by request id. Append-only. */
export const usageEvents = pgTable(
  'usage_events',
  {
    requestId: text('request_id').primaryKey(),
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
    attempts: integer('attempts').notNull().default(1),
    fallbackFrom: text('fallback_from'),
    latencyMs: integer('latency_ms').notNull(),
    ttftMs: integer('ttft_ms'),
    rawUsage: jsonb('raw_usage'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('usage_org_created_idx').on(t.orgId, t.createdAt),
    index('usage_key_created_idx').on(t.keyId, t.createdAt),
  ],
);
