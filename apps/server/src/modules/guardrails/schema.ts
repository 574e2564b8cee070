import { boolean, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const GUARDRAIL_KINDS = ['pii', 'deny_list', 'moderation'] as const;
export const GUARDRAIL_ACTIONS = ['block', 'mask', 'log'] as const;
export const GUARDRAIL_STAGES = ['input', 'output'] as const;
export const ATTACHMENT_TARGETS = ['model', 'key'] as const;

/**
 * One check of an org's guardrail pipeline: PII detection, a deny list or a moderation model; what
 * it does on a match (`action`), on which side of the call (`stages`), and whether an error in the
 * check lets the request through (`fail_open`; the default blocks it). `config` by kind:
 * pii `{entities}`, deny_list `{keywords, patterns, case_sensitive}`, moderation `{model}`.
 */
export const guardrails = pgTable(
  'guardrails',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: text('kind', { enum: GUARDRAIL_KINDS }).notNull(),
    action: text('action', { enum: GUARDRAIL_ACTIONS }).notNull(),
    stages: jsonb('stages').$type<(typeof GUARDRAIL_STAGES)[number][]>().notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    failOpen: boolean('fail_open').notNull().default(false),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('guardrails_org_idx').on(t.orgId, t.id)],
);

/** A guardrail applies to every call of a model (of its org) or of an API key (of its org). */
export const guardrailAttachments = pgTable(
  'guardrail_attachments',
  {
    guardrailId: text('guardrail_id')
      .notNull()
      .references(() => guardrails.id, { onDelete: 'cascade' }),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    targetType: text('target_type', { enum: ATTACHMENT_TARGETS }).notNull(),
    targetId: text('target_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.guardrailId, t.targetType, t.targetId] }),
    index('guardrail_attachments_target_idx').on(t.targetType, t.targetId),
  ],
);
