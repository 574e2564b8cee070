import { asc, eq, inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../../../crypto/secret-box.ts';
import type { Db } from '../../../db/client.ts';
import { AppError, conflict, forbidden, notFound } from '../../../http/app-error.ts';
import type { Principal } from '../../../http/principal.ts';
import { newId } from '../../../ids.ts';
import type { AuditContext, AuditService } from '../../audit/index.ts';
import { orgs } from '../schema.ts';
import { type ClaimRule, type IdpKind, identityProviders } from '../sso-schema.ts';
import { GITHUB_DEFAULT_SCOPES } from './github.ts';
import type { OidcClients } from './oidc-client.ts';

export type IdentityProviderRow = typeof identityProviders.$inferSelect;

export interface IdentityProviderInput {
  slug: string;
  name: string;
  kind: IdpKind;
  issuer: string;
  client_id: string;
  /** undefined: keep; null: none (public client) */
  client_secret?: string | null | undefined;
  /** undefined on create: the kind's default */
  scopes?: string | undefined;
  enabled: boolean;
  jit_users: boolean;
  trust_email: boolean;
  rules: ClaimRule[];
}

interface Deps {
  db: Db;
  audit: AuditService;
  secrets: SecretBox;
  log: Logger;
  oidc: OidcClients;
}

/** What a response or an audit event may show: never the client secret. */
export function toIdentityProviderDto(row: IdentityProviderRow) {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    kind: row.kind,
    issuer: row.issuer,
    client_id: row.clientId,
    has_client_secret: row.clientSecretSealed !== null,
    scopes: row.scopes,
    enabled: row.enabled,
    jit_users: row.jitUsers,
    trust_email: row.trustEmail,
    rules: row.rules,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function requirePlatformAdmin(p: Principal): void {
  if (p.kind !== 'user' || !p.isPlatformAdmin)
    throw forbidden('only platform admins configure identity providers');
}

/** A platform resource, like nodes: to anyone but a platform admin, one by id does not exist. */
export function requirePlatformAdminFor(p: Principal): void {
  if (p.kind !== 'user' || !p.isPlatformAdmin) throw notFound('identity provider');
}

/** Identity providers of the platform: configured by platform admins only. */
export function createIdentityProviderService({ db, audit, secrets, log, oidc }: Deps) {
  async function assertOrgsExist(rules: ClaimRule[]) {
    const ids = [...new Set(rules.map((r) => r.org_id))];
    if (ids.length === 0) return;
    const found = await db.select({ id: orgs.id }).from(orgs).where(inArray(orgs.id, ids));
    const missing = ids.filter((id) => !found.some((f) => f.id === id));
    if (missing.length > 0)
      throw new AppError('unprocessable', `rules name orgs that do not exist: ${missing.join(', ')}`, {
        org_ids: missing,
      });
  }

  /** OpenID Connect needs the openid scope; GitHub (OAuth 2.0 only) has none. */
  function assertScopes(row: IdentityProviderRow) {
    if (row.kind !== 'github' && !row.scopes.split(' ').includes('openid'))
      throw new AppError('validation_failed', 'scopes must include openid', undefined, { param: 'scopes' });
  }

  /** Discovery must work before a provider is saved: a typo or a refused address shows at once. */
  async function assertDiscoverable(row: IdentityProviderRow) {
    try {
      const secret = row.clientSecretSealed ? secrets.open(row.clientSecretSealed) : null;
      oidc.forget(row.id);
      const config = await oidc.configOf({ ...row, clientSecret: secret });
      const meta = config.serverMetadata();
      if (!meta.authorization_endpoint || !meta.token_endpoint)
        throw new Error('its discovery document names no authorization or token endpoint');
    } catch (err) {
      oidc.forget(row.id);
      const message = (err as Error).message;
      log.warn({ issuer: row.issuer, err: message }, 'identity provider discovery failed');
      throw new AppError('unprocessable', `OpenID discovery of ${row.issuer} failed: ${message}`, {
        param: 'issuer',
      });
    }
  }

  async function get(id: string): Promise<IdentityProviderRow> {
    const [row] = await db.select().from(identityProviders).where(eq(identityProviders.id, id));
    if (!row) throw notFound('identity provider');
    return row;
  }

  return {
    get,

    async getBySlug(slug: string): Promise<IdentityProviderRow | undefined> {
      const [row] = await db.select().from(identityProviders).where(eq(identityProviders.slug, slug));
      return row;
    },

    list: () => db.select().from(identityProviders).orderBy(asc(identityProviders.createdAt)),

    async create(p: Principal, input: IdentityProviderInput, ctx: AuditContext) {
      requirePlatformAdmin(p);
      await assertOrgsExist(input.rules);
      const now = new Date();
      const row: IdentityProviderRow = {
        id: newId('idp'),
        slug: input.slug,
        name: input.name,
        kind: input.kind,
        issuer: input.issuer,
        clientId: input.client_id,
        clientSecretSealed: input.client_secret ? secrets.seal(input.client_secret) : null,
        scopes: input.scopes ?? (input.kind === 'github' ? GITHUB_DEFAULT_SCOPES : 'openid email profile'),
        enabled: input.enabled,
        jitUsers: input.jit_users,
        trustEmail: input.trust_email,
        rules: input.rules,
        createdAt: now,
        updatedAt: now,
      };
      assertScopes(row);
      await assertDiscoverable(row);
      return db.transaction(async (tx) => {
        const [clash] = await tx
          .select({ id: identityProviders.id })
          .from(identityProviders)
          .where(eq(identityProviders.slug, input.slug));
        if (clash) throw conflict(`an identity provider with slug "${input.slug}" exists`);
        await tx.insert(identityProviders).values(row);
        await audit.append(tx, ctx, {
          orgId: null,
          action: 'identity_provider.create',
          target: { type: 'identity_provider', id: row.id },
          after: toIdentityProviderDto(row),
        });
        return row;
      });
    },

    async update(p: Principal, id: string, input: Partial<IdentityProviderInput>, ctx: AuditContext) {
      requirePlatformAdminFor(p);
      const before = await get(id);
      if (input.rules) await assertOrgsExist(input.rules);
      const next: IdentityProviderRow = {
        ...before,
        ...(input.slug !== undefined ? { slug: input.slug } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.kind !== undefined ? { kind: input.kind } : {}),
        ...(input.issuer !== undefined ? { issuer: input.issuer } : {}),
        ...(input.client_id !== undefined ? { clientId: input.client_id } : {}),
        ...(input.client_secret !== undefined
          ? { clientSecretSealed: input.client_secret ? secrets.seal(input.client_secret) : null }
          : {}),
        ...(input.scopes !== undefined ? { scopes: input.scopes } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.jit_users !== undefined ? { jitUsers: input.jit_users } : {}),
        ...(input.trust_email !== undefined ? { trustEmail: input.trust_email } : {}),
        ...(input.rules !== undefined ? { rules: input.rules } : {}),
        updatedAt: new Date(),
      };
      assertScopes(next);
      if (input.issuer !== undefined || input.client_id !== undefined || input.kind !== undefined)
        await assertDiscoverable(next);
      oidc.forget(id);
      return db.transaction(async (tx) => {
        if (input.slug !== undefined && input.slug !== before.slug) {
          const [clash] = await tx
            .select({ id: identityProviders.id })
            .from(identityProviders)
            .where(eq(identityProviders.slug, input.slug));
          if (clash) throw conflict(`an identity provider with slug "${input.slug}" exists`);
        }
        const { id: _id, createdAt: _c, ...set } = next;
        await tx.update(identityProviders).set(set).where(eq(identityProviders.id, id));
        await audit.append(tx, ctx, {
          orgId: null,
          action: 'identity_provider.update',
          target: { type: 'identity_provider', id },
          before: toIdentityProviderDto(before),
          after: toIdentityProviderDto(next),
        });
        return next;
      });
    },

    async remove(p: Principal, id: string, ctx: AuditContext): Promise<void> {
      requirePlatformAdminFor(p);
      const before = await get(id);
      await db.transaction(async (tx) => {
        await tx.delete(identityProviders).where(eq(identityProviders.id, id));
        await audit.append(tx, ctx, {
          orgId: null,
          action: 'identity_provider.delete',
          target: { type: 'identity_provider', id },
          before: toIdentityProviderDto(before),
        });
      });
      oidc.forget(id);
    },
  };
}

export type IdentityProviderService = ReturnType<typeof createIdentityProviderService>;
