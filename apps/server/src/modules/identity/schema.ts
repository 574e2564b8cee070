import { ROLES } from '@maas/contracts';
import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const orgs = pgTable('orgs', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  slug: text('slug').notNull().unique(),
  /** members sign in only through an identity provider (platform admins keep their password) */
  ssoRequired: boolean('sso_required').notNull().default(false),
  /** owners and admins must use a second factor: without one their sign-in can only enrol */
  mfaRequiredForAdmins: boolean('mfa_required_for_admins').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const projects = pgTable(
  'projects',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('projects_org_name_uq').on(t.orgId, t.name)],
);

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name'),
  passwordHash: text('password_hash').notNull(),
  isPlatformAdmin: boolean('is_platform_admin').notNull().default(false),
  disabledAt: ts('disabled_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export { ROLES, type Role } from '@maas/contracts';

export const memberships = pgTable(
  'memberships',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('memberships_org_user_uq').on(t.orgId, t.userId),
    index('memberships_user_idx').on(t.userId),
  ],
);

/** Refresh-token sessions. Tokens rotate; reuse of a rotated token revokes the whole family. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    familyId: text('family_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: ts('expires_at').notNull(),
    rotatedAt: ts('rotated_at'),
    revokedAt: ts('revoked_at'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /** how the refresh token travels: an HttpOnly cookie (browsers) or the response body (CLI) */
    delivery: text('delivery', { enum: ['cookie', 'body'] })
      .notNull()
      .default('body'),
    /** last use of an access token of this session (updated at most once a minute) */
    lastUsedAt: ts('last_used_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('sessions_family_idx').on(t.familyId), index('sessions_user_idx').on(t.userId)],
);

export const INVITATION_STATUSES = ['pending', 'accepted', 'declined', 'revoked'] as const;
export const MAIL_STATUSES = ['queued', 'sent', 'failed'] as const;

/**
 * An org's offer of membership to whoever owns an email address. The invitee accepts or declines;
 * until then the org sees only the invitation, never the account behind the address.
 */
export const invitations = pgTable(
  'invitations',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    status: text('status', { enum: INVITATION_STATUSES }).notNull().default('pending'),
    /** the account was created with this invitation: its first login accepts it */
    forNewAccount: boolean('for_new_account').notNull().default(false),
    invitedBy: text('invited_by'),
    /** SHA-256 of the link token mailed last (a new mailing replaces it); null: never mailed */
    tokenHash: text('token_hash').unique(),
    /** how many times the link was mailed: the token of mailing n is derived from (id, n) */
    mailSeq: integer('mail_seq').notNull().default(0),
    mailStatus: text('mail_status', { enum: MAIL_STATUSES }),
    mailedAt: ts('mailed_at'),
    expiresAt: ts('expires_at').notNull(),
    respondedAt: ts('responded_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('invitations_email_idx').on(t.email), index('invitations_org_idx').on(t.orgId)],
);

export * from './mail/mail-schema.ts';
export * from './mfa-schema.ts';
export * from './roles-schema.ts';
export * from './sso-schema.ts';
