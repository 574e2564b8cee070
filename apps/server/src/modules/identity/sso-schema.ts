import type { ROLES } from '@maas/contracts';
import { boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const IDP_KINDS = ['oidc', 'keycloak', 'entra', 'google', 'github'] as const;
export type IdpKind = (typeof IDP_KINDS)[number];

/** One rule: a user whose claim holds the value becomes a member of the org with the role. */
export interface ClaimRule {
  claim: string;
  value: string;
  org_id: string;
  role: (typeof ROLES)[number];
}

/** An OpenID Connect identity provider, configured by a platform admin. */
export const identityProviders = pgTable('identity_providers', {
  id: text('id').primaryKey(),
  /** the URL segment of its sign-in route (`/auth/sso/<slug>/start`) */
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  kind: text('kind', { enum: IDP_KINDS }).notNull().default('oidc'),
  issuer: text('issuer').notNull(),
  clientId: text('client_id').notNull(),
  /** AES-256-GCM under MAAS_SECRET_KEY; null for a public client (PKCE only) */
  clientSecretSealed: text('client_secret_sealed'),
  scopes: text('scopes').notNull().default('openid email profile'),
  enabled: boolean('enabled').notNull().default(true),
  /** create an account at the first sign-in of an unknown user */
  jitUsers: boolean('jit_users').notNull().default(true),
  /** treat the email claim as verified even without email_verified (Entra ID sends none) */
  trustEmail: boolean('trust_email').notNull().default(false),
  rules: jsonb('rules').$type<ClaimRule[]>().notNull().default([]),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** The link of an account to a provider's subject (`sub`). */
export const userIdentities = pgTable(
  'user_identities',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    providerId: text('provider_id')
      .notNull()
      .references(() => identityProviders.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    email: text('email'),
    lastLoginAt: ts('last_login_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('user_identities_provider_subject_uq').on(t.providerId, t.subject),
    index('user_identities_user_idx').on(t.userId),
  ],
);

/**
 * A sign-in under way: state, nonce and PKCE verifier stay here; the browser holds only a random
 * binding in a short-lived cookie, whose hash must match at the callback. Used once.
 */
export const ssoLogins = pgTable('sso_logins', {
  id: text('id').primaryKey(),
  stateHash: text('state_hash').notNull().unique(),
  bindingHash: text('binding_hash').notNull(),
  providerId: text('provider_id')
    .notNull()
    .references(() => identityProviders.id, { onDelete: 'cascade' }),
  codeVerifierSealed: text('code_verifier_sealed').notNull(),
  nonce: text('nonce').notNull(),
  redirectUri: text('redirect_uri').notNull(),
  /** a path of the console, never an origin */
  returnTo: text('return_to').notNull(),
  expiresAt: ts('expires_at').notNull(),
  consumedAt: ts('consumed_at'),
  /** a CLI sign-in (`maas login --sso`): its loopback redirect, PKCE challenge, then the one-time code */
  cli: jsonb('cli').$type<CliSignIn>(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export interface CliSignIn {
  /** http://127.0.0.1:<port>/… of the waiting CLI */
  redirect: string;
  /** base64url SHA-256 of the CLI's verifier */
  challenge: string;
  /** after the provider's callback: the hash of the one-time code handed to the CLI, and the account */
  code_hash?: string;
  user_id?: string;
  org_id?: string;
  id_token_sealed?: string | null;
}

/** What RP-initiated logout needs of a session family signed in through a provider. */
export const ssoSessions = pgTable('sso_sessions', {
  familyId: text('family_id').primaryKey(),
  providerId: text('provider_id')
    .notNull()
    .references(() => identityProviders.id, { onDelete: 'cascade' }),
  idTokenSealed: text('id_token_sealed'),
  createdAt: ts('created_at').notNull().defaultNow(),
});
