import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

export const BATCH_STATUSES = [
  'validating',
  'in_progress',
  'finalizing',
  'completed',
  'failed',
  'expired',
  'cancelling',
  'cancelled',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * OpenAI's Batch, plus what it runs as. Its steps and line ranges are jobs of the job engine
 * (batch-jobs.ts); lines are claimed by the range job running them (batch_lines).
 */
export const batches = pgTable(
  'batches',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
    keyId: text('key_id').notNull(),
    /** the key's principal when the batch was created: lines run as that key */
    principal: jsonb('principal').notNull(),
    endpoint: text('endpoint').notNull(),
    inputFileId: text('input_file_id').notNull(),
    completionWindow: text('completion_window').notNull(),
    status: text('status', { enum: BATCH_STATUSES }).notNull(),
    /** the status finalizing ends in (completed, expired or cancelled), kept across a restart */
    endStatus: text('end_status', { enum: BATCH_STATUSES }),
    model: text('model'),
    errors: jsonb('errors'),
    outputFileId: text('output_file_id'),
    errorFileId: text('error_file_id'),
    metadata: jsonb('metadata'),
    outputExpiresAfterS: integer('output_expires_after_s'),
    total: integer('total').notNull().default(0),
    completed: integer('completed').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull().default(0),
    reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull().default(0),
    createdAt: ts('created_at').notNull(),
    inProgressAt: ts('in_progress_at'),
    expiresAt: ts('expires_at').notNull(),
    finalizingAt: ts('finalizing_at'),
    completedAt: ts('completed_at'),
    failedAt: ts('failed_at'),
    expiredAt: ts('expired_at'),
    cancellingAt: ts('cancelling_at'),
    cancelledAt: ts('cancelled_at'),
    /**
     * The estimate validation admitted (prompt tokens plus max_tokens of every line; cost at the
     * batch price, millionths of the currency) on model `hold_model`: the batch holds the share of
     * it its unanswered lines stand for while it is in progress.
     */
    holdModel: text('hold_model'),
    estimateTokens: bigint('estimate_tokens', { mode: 'number' }).notNull().default(0),
    estimateCostMicros: bigint('estimate_cost_micros', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('batches_project_idx').on(t.orgId, t.projectId, t.id),
    index('batches_active_idx')
      .on(t.status)
      .where(sql`status in ('validating', 'in_progress', 'finalizing', 'cancelling')`),
  ],
);

export const LINE_STATES = ['pending', 'completed', 'failed'] as const;

/**
 * One input line. A replica claims pending lines for a while (`claim_until`); the answer is written
 * with the line's usage row in one transaction, only while the line is still pending, so a line is
 * answered (and billed) once however many replicas or restarts touched it.
 */
export const batchLines = pgTable(
  'batch_lines',
  {
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    line: integer('line').notNull(),
    customId: text('custom_id').notNull(),
    body: jsonb('body'),
    state: text('state', { enum: LINE_STATES }).notNull().default('pending'),
    /** tries that ended in a transient refusal (429, 503): retried later, up to a bound */
    attempts: integer('attempts').notNull().default(0),
    claimedBy: text('claimed_by'),
    claimUntil: ts('claim_until'),
    /** the output (or error) file line, as written */
    result: jsonb('result'),
  },
  (t) => [
    primaryKey({ name: 'batch_lines_pk', columns: [t.batchId, t.line] }),
    index('batch_lines_pending_idx').on(t.batchId, t.line).where(sql`state = 'pending'`),
  ],
);
