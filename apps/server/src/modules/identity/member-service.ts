import { and, asc, eq, gt, ne } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, conflict, forbidden, notFound } from '../../http/app-error.ts';
import { type Principal, type Role, requirePermission } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import type { InvitationRow, InvitationService } from './invitation-service.ts';
import { assertPasswordPolicy } from './password-policy.ts';
import type { PasswordHasher } from './passwords.ts';
import { memberships, users } from './schema.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  hasher: PasswordHasher;
  invitations: InvitationService;
}

/** What creating a member gives: the account itself (platform admins) or an invitation. */
export type CreatedMember =
  | { kind: 'user'; user: typeof users.$inferSelect; role: Role }
  | { kind: 'invitation'; invitation: InvitationRow };

export interface NewUser {
  email: string;
  name?: string | undefined;
  password: string;
  role: Role;
}

/** Users seen through their membership of the caller's org, and the memberships themselves. */
export function createMemberService({ db, audit, hasher, invitations }: Deps) {
  async function findMember(tx: DbOrTx, orgId: string, userId: string) {
    const [row] = await tx
      .select({ user: users, role: memberships.role, membershipId: memberships.id })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)));
    if (!row) throw notFound('user');
    return row;
  }

  async function findMembership(tx: DbOrTx, orgId: string, id: string) {
    const [row] = await tx
      .select()
      .from(memberships)
      .where(and(eq(memberships.id, id), eq(memberships.orgId, orgId)));
    if (!row) throw notFound('membership');
    return row;
  }

  /** Only an owner grants or takes away the owner role, and an org always keeps one owner. */
  async function guardOwnerChange(
    tx: DbOrTx,
    p: Principal,
    orgId: string,
    from: Role | null,
    to: Role | null,
  ) {
    if ((from === 'owner' || to === 'owner') && !(p.kind === 'user' && p.role === 'owner')) {
      throw forbidden('only an owner may grant or remove the owner role');
    }
    if (from === 'owner' && to !== 'owner') {
      const owners = await tx
        .select({ id: memberships.id })
        .from(memberships)
        .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner')));
      if (owners.length <= 1) throw new AppError('unprocessable', 'an org must keep at least one owner');
    }
  }

  return {
    findMember,

    async listUsers(p: Principal, limit: number, cursor?: string) {
      return db
        .select({ user: users, role: memberships.role })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.orgId, p.orgId), cursor ? gt(users.id, cursor) : undefined))
        .orderBy(asc(users.id))
        .limit(limit + 1);
    },

    /** Throws a 404 unless the user is a member of the org (for limits that name a user). */
    requireMember: (tx: DbOrTx, orgId: string, userId: string) => findMember(tx, orgId, userId),

    async getUser(p: Principal, id: string) {
      requirePermission(p, 'read');
      return findMember(db, p.orgId, id);
    },

    /**
     * Platform admins create the account and its membership at once. Anyone else gets an invitation,
     * the same answer whether or not the address already has an account on the platform: a new
     * account is created with the password and joins at its first sign-in; an existing account keeps
     * its own password and must accept.
     */
    async createUser(p: Principal, input: NewUser, ctx: AuditContext): Promise<CreatedMember> {
      const email = input.email.trim().toLowerCase();
      assertPasswordPolicy(input.password, email);
      await guardOwnerChange(db, p, p.orgId, null, input.role);
      if (await invitations.emailKnownToOrg(p.orgId, email))
        throw conflict('this user is already a member of the org');
      const passwordHash = await hasher.hash(input.password);
      const direct = p.kind === 'user' && p.isPlatformAdmin;
      return db.transaction(async (tx): Promise<CreatedMember> => {
        const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
        if (existing && direct)
          throw conflict('a user with this email exists: invite them with POST /api/v1/invitations');
        if (existing) {
          return {
            kind: 'invitation',
            invitation: await invitations.invite(tx, p, { email, role: input.role }, ctx),
          };
        }
        const [user] = await tx
          .insert(users)
          .values({ id: newId('usr'), email, name: input.name ?? null, passwordHash })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'user.create',
          target: { type: 'user', id: user!.id },
          after: { ...user, passwordHash: undefined, role: input.role },
        });
        if (!direct) {
          const invitation = await invitations.invite(
            tx,
            p,
            { email, role: input.role, forNewAccount: true },
            ctx,
          );
          return { kind: 'invitation', invitation };
        }
        const [membership] = await tx
          .insert(memberships)
          .values({ id: newId('mem'), orgId: p.orgId, userId: user!.id, role: input.role })
          .returning();
        return { kind: 'user', user: user!, role: membership!.role };
      });
    },

    /**
     * Only a user renames themself (an org's admins cannot rename accounts that may belong to other
     * orgs); platform admins may rename anyone. Passwords change through the auth service.
     */
    async renameUser(p: Principal, id: string, name: string | null, ctx: AuditContext) {
      requirePermission(p, 'read');
      await findMember(db, p.orgId, id);
      const self = p.kind === 'user' && p.userId === id;
      if (!self && !(p.kind === 'user' && p.isPlatformAdmin))
        throw forbidden('only the user may change their own name');
      return db.transaction(async (tx) => {
        const before = await findMember(tx, p.orgId, id);
        const [after] = await tx
          .update(users)
          .set({ name, updatedAt: new Date() })
          .where(eq(users.id, id))
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'user.update',
          target: { type: 'user', id },
          before: { name: before.user.name },
          after: { name: after!.name },
        });
        return { user: after!, role: before.role };
      });
    },

    /** Removes the user from this org; the account itself stays for other orgs. */
    async removeUser(p: Principal, id: string, ctx: AuditContext) {
      const member = await findMember(db, p.orgId, id);
      await db.transaction(async (tx) => {
        await guardOwnerChange(tx, p, p.orgId, member.role, null);
        await tx.delete(memberships).where(eq(memberships.id, member.membershipId));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'membership.delete',
          target: { type: 'user', id },
          before: { user_id: id, role: member.role },
        });
      });
    },

    async listMemberships(p: Principal, limit: number, cursor?: string) {
      return db
        .select({ membership: memberships, email: users.email })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.orgId, p.orgId), cursor ? gt(memberships.id, cursor) : undefined))
        .orderBy(asc(memberships.id))
        .limit(limit + 1);
    },

    async getMembership(p: Principal, id: string) {
      return findMembership(db, p.orgId, id);
    },

    /** Adding someone to the org is an invitation they accept (see the invitation service). */
    createMembership(p: Principal, input: { email: string; role: Role }, ctx: AuditContext) {
      return invitations.create(p, input, ctx);
    },

    async updateMembership(p: Principal, id: string, role: Role, ctx: AuditContext) {
      await findMembership(db, p.orgId, id);
      return db.transaction(async (tx) => {
        const before = await findMembership(tx, p.orgId, id);
        await guardOwnerChange(tx, p, p.orgId, before.role, role);
        const [after] = await tx
          .update(memberships)
          .set({ role, updatedAt: new Date() })
          .where(and(eq(memberships.id, id), ne(memberships.role, role)))
          .returning();
        if (!after) return before;
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'membership.update',
          target: { type: 'membership', id },
          before,
          after,
        });
        return after;
      });
    },

    async removeMembership(p: Principal, id: string, ctx: AuditContext) {
      await findMembership(db, p.orgId, id);
      await db.transaction(async (tx) => {
        const before = await findMembership(tx, p.orgId, id);
        await guardOwnerChange(tx, p, p.orgId, before.role, null);
        await tx.delete(memberships).where(eq(memberships.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'membership.delete',
          target: { type: 'membership', id },
          before,
        });
      });
    },
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
