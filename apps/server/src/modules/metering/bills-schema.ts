import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

export const BILL_STATUSES = ['draft', 'finalized'] as const;

/** A monthly statement per org; immutable once finalized (a trigger enforces it). */
export const bills = pgTable(
  'bills',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    /** `YYYY-MM`, UTC */
    period: text('period').notNull(),
    status: text('status', { enum: BILL_STATUSES }).notNull().default('draft'),
    /** per currency: requests, tokens by class, cost */
    totals: jsonb('totals').$type<Record<string, BillTotals>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    finalizedAt: timestamp('finalized_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('bills_org_period_uq').on(t.orgId, t.period)],
);

export interface BillTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** media units (absent in bills made before they existed) */
  images?: number;
  audio_ms?: number;
  characters?: number;
  cost_nanos: number;
}

export const billLines = pgTable(
  'bill_lines',
  {
    id: text('id').primaryKey(),
    billId: text('bill_id')
      .notNull()
      .references(() => bills.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
    modelName: text('model_name').notNull(),
    currency: text('currency').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull(),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull(),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull(),
    cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull(),
    reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull(),
    images: bigint('images', { mode: 'number' }).notNull().default(0),
    audioMs: bigint('audio_ms', { mode: 'number' }).notNull().default(0),
    characters: bigint('characters', { mode: 'number' }).notNull().default(0),
    costNanos: bigint('cost_nanos', { mode: 'number' }).notNull(),
  },
  (t) => [index('bill_lines_bill_idx').on(t.billId)],
);
