import { bigint, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
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
  /** the WebAuthn challenge of a passkey answer to this sign-in, once the client asked for one */
  passkeyChallenge: text('passkey_challenge'),
  expiresAt: ts('expires_at').notNull(),
  consumedAt: ts('consumed_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/**
 * A user's WebAuthn passkey, a second factor beside (or instead of) TOTP. The relying party id it
 * was made for is kept: an answer is only checked against that id, never one taken from a request.
 */
export const userPasskeys = pgTable(
  'user_passkeys',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** base64url, as the authenticator made it */
    credentialId: text('credential_id').notNull().unique(),
    /** COSE public key, base64url */
    publicKey: text('public_key').notNull(),
    signCount: bigint('sign_count', { mode: 'number' }).notNull().default(0),
    transports: text('transports').array().notNull().default([]),
    rpId: text('rp_id').notNull(),
    lastUsedAt: ts('last_used_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('user_passkeys_user_idx').on(t.userId)],
);

/** The open registration ceremony of a user's next passkey (one at a time; a new one replaces it). */
export const passkeyRegistrations = pgTable('passkey_registrations', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  challenge: text('challenge').notNull(),
  rpId: text('rp_id').notNull(),
  expiresAt: ts('expires_at').notNull(),
});
