import {
  bigint,
  doublePrecision,
  index,
  integer,
  numeric,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const LIMIT_SCOPES = ['org', 'project', 'key', 'user'] as const;
export const LIMIT_PERIODS = ['day', 'week', 'month', 'total'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

/**
 * Rate limits, token quotas and money budgets of one org, project or key; `model` null applies to
 * all models together, a model name applies to that model alone (both apply when both exist).
 * `budget` is in the currency of the model prices. Null limits are not enforced.
 */
export const limitPolicies = pgTable(
  'limit_policies',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    scope: text('scope', { enum: LIMIT_SCOPES }).notNull(),
    scopeId: text('scope_id').notNull(),
    model: text('model'),
    rpm: integer('rpm'),
    rpd: integer('rpd'),
    tpm: bigint('tpm', { mode: 'number' }),
    tpd: bigint('tpd', { mode: 'number' }),
    maxConcurrent: integer('max_concurrent'),
    tokenQuota: bigint('token_quota', { mode: 'number' }),
    quotaPeriod: text('quota_period', { enum: LIMIT_PERIODS }),
    budget: numeric('budget', { precision: 20, scale: 6, mode: 'number' }),
    budgetPeriod: text('budget_period', { enum: LIMIT_PERIODS }),
    softThreshold: doublePrecision('soft_threshold'),
    webhookUrl: text('webhook_url'),
    description: text('description'),
    createdBy: text('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique('limit_policies_subject_uq').on(t.scope, t.scopeId, t.model).nullsNotDistinct(),
    index('limit_policies_org_idx').on(t.orgId, t.id),
  ],
);

export const NOTIFICATION_METRICS = ['tokens', 'cost'] as const;
export const WEBHOOK_STATUSES = ['none', 'pending', 'sent', 'failed'] as const;

/** A soft threshold of a quota or budget was crossed: once per policy, metric, period and limit. */
export const limitNotifications = pgTable(
  'limit_notifications',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    policyId: text('policy_id').notNull(),
    scope: text('scope', { enum: LIMIT_SCOPES }).notNull(),
    scopeId: text('scope_id').notNull(),
    model: text('model'),
    metric: text('metric', { enum: NOTIFICATION_METRICS }).notNull(),
    period: text('period', { enum: LIMIT_PERIODS }).notNull(),
    periodStart: ts('period_start').notNull(),
    threshold: doublePrecision('threshold').notNull(),
    limit: doublePrecision('limit').notNull(),
    used: doublePrecision('used').notNull(),
    webhookStatus: text('webhook_status', { enum: WEBHOOK_STATUSES }).notNull().default('none'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('limit_notifications_once_uq').on(t.policyId, t.metric, t.periodStart, t.limit),
    index('limit_notifications_org_idx').on(t.orgId, t.id),
  ],
);
