import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { AppError, forbidden, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { KEYS_CHANGED } from '../keys/index.ts';
import { apiKeys } from '../keys/schema.ts';
import { memberships, orgs, projects } from './schema.ts';
import { assertSomeIdentityProvider } from './sso/sso-required.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  bus: Bus;
}

const slugify = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48) || 'org';

export function createOrgService({ db, audit, bus }: Deps) {
  /** Every key of the org (or project) leaves the key caches of all replicas when it is deleted. */
  async function announceKeysGone(tx: DbOrTx, where: { orgId?: string; projectId?: string }) {
    const rows = await tx
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(where.projectId ? eq(apiKeys.projectId, where.projectId) : eq(apiKeys.orgId, where.orgId!));
    return () => Promise.all(rows.map((r) => bus.publish(KEYS_CHANGED, { id: r.id })));
  }

  return {
    announceKeysGone,

    /** Orgs the caller belongs to (a key sees only its own). */
    async list(p: Principal, limit: number, cursor?: string) {
      if (p.kind === 'key') {
        return db
          .select()
          .from(orgs)
          .where(and(eq(orgs.id, p.orgId), cursor ? gt(orgs.id, cursor) : undefined));
      }
      const mine = db
        .select({ orgId: memberships.orgId })
        .from(memberships)
        .where(eq(memberships.userId, p.userId));
      return db
        .select()
        .from(orgs)
        .where(and(inArray(orgs.id, mine), cursor ? gt(orgs.id, cursor) : undefined))
        .orderBy(asc(orgs.id))
        .limit(limit + 1);
    },

    async get(p: Principal, id: string) {
      if (id !== p.orgId) throw notFound('org');
      const [org] = await db.select().from(orgs).where(eq(orgs.id, id));
      if (!org) throw notFound('org');
      return org;
    },

    /** Platform admins create orgs; the creator becomes owner and a `default` project is made. */
    async create(p: Principal, input: { name: string; slug?: string | undefined }, ctx: AuditContext) {
      if (p.kind !== 'user' || !p.isPlatformAdmin) throw forbidden('only a platform admin may create orgs');
      const slug = input.slug ?? slugify(input.name);
      return db.transaction(async (tx) => {
        const [taken] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.slug, slug));
        if (taken) throw new AppError('conflict', `an org with slug "${slug}" already exists`);
        const [org] = await tx
          .insert(orgs)
          .values({ id: newId('org'), name: input.name, slug })
          .returning();
        await tx
          .insert(memberships)
          .values({ id: newId('mem'), orgId: org!.id, userId: p.userId, role: 'owner' });
        await tx.insert(projects).values({ id: newId('prj'), orgId: org!.id, name: 'default' });
        await audit.append(tx, ctx, {
          orgId: org!.id,
          action: 'org.create',
          target: { type: 'org', id: org!.id },
          after: org,
        });
        return org!;
      });
    },

    async update(
      p: Principal,
      id: string,
      input: {
        name?: string | undefined;
        sso_required?: boolean | undefined;
        mfa_required_for_admins?: boolean | undefined;
      },
      ctx: AuditContext,
    ) {
      if (id !== p.orgId) throw notFound('org');
      if (input.sso_required) await assertSomeIdentityProvider(db);
      return db.transaction(async (tx) => {
        const [before] = await tx.select().from(orgs).where(eq(orgs.id, id));
        if (!before) throw notFound('org');
        const [after] = await tx
          .update(orgs)
          .set({
            ...(input.name ? { name: input.name } : {}),
            ...(input.sso_required !== undefined ? { ssoRequired: input.sso_required } : {}),
            ...(input.mfa_required_for_admins !== undefined
              ? { mfaRequiredForAdmins: input.mfa_required_for_admins }
              : {}),
            updatedAt: new Date(),
          })
          .where(eq(orgs.id, id))
          .returning();
        await audit.append(tx, ctx, {
          orgId: id,
          action: 'org.update',
          target: { type: 'org', id },
          before,
          after,
        });
        return after!;
      });
    },

    async remove(p: Principal, id: string, ctx: AuditContext) {
      if (id !== p.orgId) throw notFound('org');
      const announce = await db.transaction(async (tx) => {
        const [before] = await tx.select().from(orgs).where(eq(orgs.id, id));
        if (!before) throw notFound('org');
        const announce = await announceKeysGone(tx, { orgId: id });
        await tx.delete(orgs).where(eq(orgs.id, id));
        await audit.append(tx, ctx, { orgId: id, action: 'org.delete', target: { type: 'org', id }, before });
        return announce;
      });
      await announce();
    },
  };
}

export type OrgService = ReturnType<typeof createOrgService>;
