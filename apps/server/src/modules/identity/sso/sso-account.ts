import type { Role } from '@maas/contracts';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db, Tx } from '../../../db/client.ts';
import { newId } from '../../../ids.ts';
import { type AuditContext, type AuditService, asUser } from '../../audit/index.ts';
import { memberships, orgs, users } from '../schema.ts';
import { userIdentities } from '../sso-schema.ts';
import { grantsFor } from './claim-mapping.ts';
import type { IdentityProviderRow } from './provider-service.ts';

/** A sign-in through a provider refused for a reason the login page names (`?sso_error=<reason>`). */
export class SsoRefused extends Error {
  /** where the browser goes to learn it (a CLI's loopback); else the console's login page */
  redirectTo: string | undefined;
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Accounts made by SSO have no password: no argon2 hash ever verifies against this. */
export const NO_PASSWORD = '!sso';

interface Deps {
  db: Db;
  audit: AuditService;
}

/**
 * The account behind a provider's claims: the linked one, else the one with the (verified) email,
 * else a new one when the provider creates users just in time. Then the provider's rules grant
 * memberships (a rule never demotes an owner); the sign-in lands in the first org a rule granted.
 */
export function createSsoAccountService({ db, audit }: Deps) {
  async function applyGrants(tx: Tx, userId: string, grants: Map<string, Role>, ctx: AuditContext) {
    if (grants.size === 0) return;
    // a rule may name an org deleted since: it grants nothing
    const live = await tx
      .select({ id: orgs.id })
      .from(orgs)
      .where(inArray(orgs.id, [...grants.keys()]));
    for (const orgId of [...grants.keys()]) if (!live.some((o) => o.id === orgId)) grants.delete(orgId);
    if (grants.size === 0) return;
    const had = await tx
      .select()
      .from(memberships)
      .where(and(eq(memberships.userId, userId), inArray(memberships.orgId, [...grants.keys()])));
    for (const [orgId, role] of grants) {
      const current = had.find((m) => m.orgId === orgId);
      if (current && (current.role === role || current.role === 'owner')) continue;
      if (current) {
        await tx
          .update(memberships)
          .set({ role, updatedAt: new Date() })
          .where(eq(memberships.id, current.id));
      } else {
        await tx.insert(memberships).values({ id: newId('mem'), orgId, userId, role });
      }
      await audit.append(tx, ctx, {
        orgId,
        action: current ? 'membership.update' : 'membership.create',
        target: { type: 'user', id: userId },
        ...(current ? { before: { role: current.role } } : {}),
        after: { role, source: 'sso' },
      });
    }
  }

  return {
    async resolve(
      p: IdentityProviderRow,
      claims: Record<string, unknown>,
      ctx: AuditContext,
    ): Promise<{ userId: string; orgId: string; created: boolean }> {
      const sub = String(claims.sub);
      const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : null;
      const verified = claims.email_verified === true || p.trustEmail;
      const name = typeof claims.name === 'string' ? claims.name.slice(0, 200) : null;
      return db.transaction(async (tx) => {
        const actor = (userId: string) => asUser(ctx, userId);
        let created = false;
        const [linked] = await tx
          .select({ userId: userIdentities.userId, id: userIdentities.id })
          .from(userIdentities)
          .where(and(eq(userIdentities.providerId, p.id), eq(userIdentities.subject, sub)));
        let userId = linked?.userId;
        if (!userId) {
          if (!email) throw new SsoRefused('no_email', 'the identity provider sent no email address');
          if (!verified)
            throw new SsoRefused(
              'email_not_verified',
              'the identity provider did not vouch for this email address',
            );
          const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
          if (existing) userId = existing.id;
          else if (!p.jitUsers) throw new SsoRefused('no_account', 'no maas account has this email address');
          else {
            userId = newId('usr');
            created = true;
            await tx.insert(users).values({ id: userId, email, name, passwordHash: NO_PASSWORD });
            await audit.append(tx, actor(userId), {
              orgId: null,
              action: 'user.create',
              target: { type: 'user', id: userId },
              after: { email, source: 'sso', provider: p.slug },
            });
          }
          await tx.insert(userIdentities).values({
            id: newId('uid'),
            userId,
            providerId: p.id,
            subject: sub,
            email,
            lastLoginAt: new Date(),
          });
        } else {
          await tx
            .update(userIdentities)
            .set({ lastLoginAt: new Date(), ...(email ? { email } : {}) })
            .where(eq(userIdentities.id, linked!.id));
        }
        const [user] = await tx.select().from(users).where(eq(users.id, userId));
        if (!user || user.disabledAt) throw new SsoRefused('user_disabled', 'this account is disabled');
        const grants = grantsFor(p.rules, claims);
        await applyGrants(tx, userId, grants, actor(userId));
        const mine = await tx
          .select({ orgId: memberships.orgId })
          .from(memberships)
          .where(eq(memberships.userId, userId))
          .orderBy(asc(memberships.createdAt));
        const orgId = mine.find((m) => grants.has(m.orgId))?.orgId ?? mine[0]?.orgId;
        if (!orgId)
          throw new SsoRefused('no_membership', 'no org grants you access: ask an admin to add you');
        return { userId, orgId, created };
      });
    },
  };
}

export type SsoAccountService = ReturnType<typeof createSsoAccountService>;
