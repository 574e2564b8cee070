import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs, projects } from '../identity/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export { KEY_SCOPES, type KeyScope } from '@maas/contracts';

/** API keys are stored only as a SHA-256 hash plus a display prefix. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull().unique(),
    /** After a rotation the old secret stays valid until `previous_expires_at`. */
    previousHash: text('previous_hash').unique(),
    previousExpiresAt: ts('previous_expires_at'),
    scopes: text('scopes').array().notNull(),
    models: text('models').array(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    limits: jsonb('limits').$type<Record<string, unknown>>().notNull().default({}),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    createdBy: text('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('api_keys_org_idx').on(t.orgId, t.id), index('api_keys_project_idx').on(t.projectId)],
);
