import { z } from 'zod';
import {
  LIMIT_PERIODS,
  LIMIT_SCOPES,
  type limitNotifications,
  type limitPolicies,
  NOTIFICATION_METRICS,
  WEBHOOK_STATUSES,
} from './schema.ts';

const count = (max: number, what: string) => z.number().int().min(0).max(max).describe(what);
const period = z
  .enum(LIMIT_PERIODS)
  .describe('calendar period in UTC (weeks start on Monday); default month');

/** Absent on create: not enforced. On update, null removes a limit. */
const limitFields = {
  rpm: count(1e9, 'requests per minute'),
  rpd: count(1e9, 'requests per day'),
  tpm: count(1e15, 'tokens per minute (prompt plus completion)'),
  tpd: count(1e15, 'tokens per day'),
  max_concurrent: count(1e6, 'requests in flight at once'),
  token_quota: count(1e15, 'tokens per quota period; past it requests get 429 insufficient_quota'),
  quota_period: period,
  budget: z
    .number()
    .min(0)
    .max(1e9)
    .describe('money per budget period, in the currency of the model prices; past it 429 insufficient_quota'),
  budget_period: period,
  soft_threshold: z
    .number()
    .gt(0)
    .max(1)
    .describe(
      'fraction of the token quota or budget at which an alert is raised (e.g. 0.8); absent: no alert',
    ),
  webhook_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .describe('POSTed a JSON notification when a soft threshold is crossed'),
  description: z.string().max(500),
};

const optional = <T extends Record<string, z.ZodType>>(shape: T) =>
  Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof T]: z.ZodOptional<T[K]>;
  };
const nullable = <T extends Record<string, z.ZodType>>(shape: T) =>
  Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.nullable()])) as {
    [K in keyof T]: z.ZodNullable<T[K]>;
  };

export const createLimitBody = z.strictObject({
  scope: z
    .enum(LIMIT_SCOPES)
    .describe(
      'what the limits count: a whole org, one project, one API key, or one user (every key the user created, together)',
    ),
  scope_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('the org, project, key or user id; for scope org it defaults to your org'),
  model: z
    .string()
    .min(1)
    .max(200)
    .nullable()
    .optional()
    .describe('a model name: the limits count that model only; null or absent: all models together'),
  ...optional(limitFields),
});

export const updateLimitBody = z.strictObject(optional(nullable(limitFields)));

export const limitParams = z.strictObject({ id: z.string().min(1).max(200) });

export const listLimitsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  scope: z.enum(LIMIT_SCOPES).optional(),
  scope_id: z.string().max(200).optional(),
  model: z.string().max(200).optional(),
});

export const limitPolicyDto = z.object({
  id: z.string(),
  org_id: z.string(),
  scope: z.enum(LIMIT_SCOPES),
  scope_id: z.string(),
  model: z.string().nullable(),
  rpm: z.number().nullable(),
  rpd: z.number().nullable(),
  tpm: z.number().nullable(),
  tpd: z.number().nullable(),
  max_concurrent: z.number().nullable(),
  token_quota: z.number().nullable(),
  quota_period: z.enum(LIMIT_PERIODS).nullable(),
  budget: z.number().nullable(),
  budget_period: z.enum(LIMIT_PERIODS).nullable(),
  soft_threshold: z.number().nullable(),
  webhook_url: z.string().nullable(),
  description: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export type LimitPolicyRow = typeof limitPolicies.$inferSelect;
export type LimitPolicyDto = z.infer<typeof limitPolicyDto>;

export function toLimitPolicyDto(row: LimitPolicyRow): LimitPolicyDto {
  return {
    id: row.id,
    org_id: row.orgId,
    scope: row.scope,
    scope_id: row.scopeId,
    model: row.model,
    rpm: row.rpm,
    rpd: row.rpd,
    tpm: row.tpm,
    tpd: row.tpd,
    max_concurrent: row.maxConcurrent,
    token_quota: row.tokenQuota,
    quota_period: row.quotaPeriod,
    budget: row.budget === null ? null : Number(row.budget),
    budget_period: row.budgetPeriod,
    soft_threshold: row.softThreshold,
    webhook_url: row.webhookUrl,
    description: row.description,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const limitUsageDto = z.object({
  policy_id: z.string(),
  at: z.string(),
  counters: z.array(
    z.object({
      dimension: z.enum(['rpm', 'rpd', 'tpm', 'tpd', 'concurrency', 'token_quota', 'budget']),
      limit: z.number(),
      used: z
        .number()
        .describe('settled usage (windows: requests or tokens counted now; concurrency: in flight)'),
      reserved: z.number().describe('held by requests in flight (quota and budget)'),
      held: z.number().describe('held by running batches for their unanswered lines (quota and budget)'),
      remaining: z.number(),
      reset_ms: z
        .number()
        .nullable()
        .describe('windows: ms until the window is empty; periods: ms until the period ends'),
      period: z.enum(LIMIT_PERIODS).nullable(),
      period_start: z.string().nullable(),
    }),
  ),
});

export const notificationDto = z.object({
  id: z.string(),
  org_id: z.string(),
  type: z.literal('limit.threshold_reached'),
  policy_id: z.string(),
  scope: z.enum(LIMIT_SCOPES),
  scope_id: z.string(),
  model: z.string().nullable(),
  metric: z.enum(NOTIFICATION_METRICS).describe('tokens: the token quota; cost: the money budget'),
  period: z.enum(LIMIT_PERIODS),
  period_start: z.string(),
  threshold: z.number(),
  limit: z.number(),
  used: z.number(),
  webhook_status: z.enum(WEBHOOK_STATUSES),
  created_at: z.string(),
});

export type NotificationRow = typeof limitNotifications.$inferSelect;
export type NotificationDto = z.infer<typeof notificationDto>;

export function toNotificationDto(row: NotificationRow): NotificationDto {
  return {
    id: row.id,
    org_id: row.orgId,
    type: 'limit.threshold_reached',
    policy_id: row.policyId,
    scope: row.scope,
    scope_id: row.scopeId,
    model: row.model,
    metric: row.metric,
    period: row.period,
    period_start: row.periodStart.toISOString(),
    threshold: row.threshold,
    limit: row.limit,
    used: row.used,
    webhook_status: row.webhookStatus,
    created_at: row.createdAt.toISOString(),
  };
}

export const listNotificationsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  policy_id: z.string().max(200).optional(),
});
