import { boolean, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Responses API state kept by maas itself (not by any upstream), so that `previous_response_id`
 * chains across providers and replicas: each stored response holds its whole conversation input
 * (earlier turns' input and output items included) and its own output items. Scoped by org and
 * project; rows past `expires_at` are swept. `store: false` responses are never written.
 */
export const storedResponses = pgTable(
  'responses',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    projectId: text('project_id').notNull(),
    keyId: text('key_id').notNull(),
    model: text('model').notNull(),
    /** queued | in_progress | completed | failed | incomplete | cancelled */
    status: text('status').notNull(),
    background: boolean('background').notNull().default(false),
    previousResponseId: text('previous_response_id'),
    /** the background job that runs it */
    jobId: text('job_id'),
    /** the request's echoed fields (instructions, tools, sampling, metadata …) */
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    /** the conversation's input items, with ids, earlier turns first */
    inputItems: jsonb('input_items').$type<Record<string, unknown>[]>().notNull(),
    output: jsonb('output').$type<Record<string, unknown>[]>().notNull(),
    usage: jsonb('usage').$type<Record<string, unknown> | null>(),
    error: jsonb('error').$type<Record<string, unknown> | null>(),
    incompleteDetails: jsonb('incomplete_details').$type<Record<string, unknown> | null>(),
    createdAt: ts('created_at').notNull().defaultNow(),
    completedAt: ts('completed_at'),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [
    index('responses_owner_idx').on(t.orgId, t.projectId, t.id),
    index('responses_expires_idx').on(t.expiresAt),
  ],
);

export type StoredResponseRow = typeof storedResponses.$inferSelect;
