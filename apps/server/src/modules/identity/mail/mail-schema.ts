import { boolean, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from '../schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const SMTP_SECURITY = ['tls', 'starttls', 'none'] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

/**
 * How the platform sends mail (one row, `id = 'platform'`), set by a platform admin. `public_url` is
 * where links in mail point: never taken from a request, so no tenant can aim a link elsewhere.
 */
export const mailSettings = pgTable('mail_settings', {
  id: text('id').primaryKey(),
  host: text('host').notNull(),
  port: integer('port').notNull(),
  security: text('security', { enum: SMTP_SECURITY }).notNull(),
  username: text('username'),
  passwordSealed: text('password_sealed'),
  fromAddress: text('from_address').notNull(),
  publicUrl: text('public_url').notNull(),
  updatedBy: text('updated_by'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * Self-registration into an org: off unless its owners turn it on; then whoever proves an address of
 * an allowed domain (by the link mailed to it) joins as a viewer.
 */
export const orgRegistration = pgTable('org_registration', {
  orgId: text('org_id')
    .primaryKey()
    .references(() => orgs.id, { onDelete: 'cascade' }),
  enabled: boolean('enabled').notNull().default(false),
  domains: text('domains').array().notNull().default([]),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
