import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs, users } from './schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A user's TOTP factor; enabledAt is null while enrolment waits for its first code. */
export const userMfa = pgTable('user_mfa', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  totpSecretSealed: text('totp_secret_sealed').notNull(),
  /** the last TOTP time step accepted: a code is never accepted twice */
  lastStep: integer('last_step'),
  enabledAt: ts('enabled_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** One-time recovery codes, stored as hashes. */
export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: ts('used_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('mfa_recovery_codes_user_idx').on(t.userId)],
);

export const LOGIN_CHALLENGE_PURPOSES = ['verify', 'enrol'] as const;

/**
 * A password sign-in waiting for its second factor ("verify") or, for an admin of an org that
 * requires MFA and has none, one that may only enrol ("enrol"). No session exists until it ends.
 */
export const loginChallenges = pgTable('login_challenges', {
  id: text('id').primaryKey(),
  tokenHash: text('token_hash').notNull().unique(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  orgId: text('org_id')
    .notNull()
    .references(() => orgs.id, { onDelete: 'cascade' }),
  purpose: text('purpose', { enum: LOGIN_CHALLENGE_PURPOSES }).notNull(),
  delivery: text('delivery', { enum: ['cookie', 'body'] }).notNull(),
  expiresAt: ts('expires_at').notNull(),
  consumedAt: ts('consumed_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});
