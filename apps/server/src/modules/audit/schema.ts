import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Append-only, hash-chained audit trail. One chain per org (`chain` = org id, or `platform` for
 * events with no org such as a failed login for an unknown email). A trigger rejects UPDATE/DELETE.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull().unique(),
    chain: text('chain').notNull(),
    orgId: text('org_id'),
    actorType: text('actor_type', { enum: ['user', 'key', 'system', 'anonymous'] }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_chain_seq_idx').on(t.chain, t.seq),
    index('audit_org_created_idx').on(t.orgId, t.createdAt),
    index('audit_action_idx').on(t.action),
    index('audit_target_idx').on(t.targetId),
  ],
);
