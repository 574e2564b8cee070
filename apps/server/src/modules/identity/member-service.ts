import { and, asc, eq, gt, ne } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, conflict, forbidden, notFound } from '../../http/app-error.ts';
import { type Principal, type Role, requirePermission } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { hashPassword } from './passwords.ts';
import { memberships, users } from './schema.ts';

interface Deps {
  db: Db;
  audit: AuditService;
}

export interface NewUser {
  email: string;
  name?: string | undefined;
  password: string;
  role: Role;
}

/** Users seen through their membership of the caller's org, and the memberships themselves. */
export function createMemberService({ db, audit }: Deps) {
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
      requirePermission(p, 'read');
      return db
        .select({ user: users, role: memberships.role })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.orgId, p.orgId), cursor ? gt(users.id, cursor) : undefined))
        .orderBy(asc(users.id))
        .limit(limit + 1);
    },

    async getUser(p: Principal, id: string) {
      requirePermission(p, 'read');
      return findMember(db, p.orgId, id);
    },

    async createUser(p: Principal, input: NewUser, ctx: AuditContext) {
      requirePermission(p, 'manage_members');
      const email = input.email.toLowerCase();
      const passwordHash = await hashPassword(input.password);
      return db.transaction(async (tx) => {
        await guardOwnerChange(tx, p, p.orgId, null, input.role);
        const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
        if (existing) throw conflict('a user with this email exists: add a membership for them instead');
        const [user] = await tx
          .insert(users)
          .values({ id: newId('usr'), email, name: input.name ?? null, passwordHash })
          .returning();
        const [membership] = await tx
          .insert(memberships)
          .values({ id: newId('mem'), orgId: p.orgId, userId: user!.id, role: input.role })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'user.create',
          target: { type: 'user', id: user!.id },
          after: { ...user, passwordHash: undefined, role: membership!.role },
        });
        return { user: user!, role: membership!.role };
      });
    },

    /** Users change their own name and password; names of members are also editable by admins. */
    async updateUser(
      p: Principal,
      id: string,
      input: { name?: string | null | undefined; password?: string | undefined },
      ctx: AuditContext,
    ) {
      requirePermission(p, 'read');
      const self = p.kind === 'user' && p.userId === id;
      await findMember(db, p.orgId, id);
      if (!self) {
        requirePermission(p, 'manage_members');
        if (input.password !== undefined) throw forbidden('only the user may change their own password');
      }
      const passwordHash = input.password ? await hashPassword(input.password) : undefined;
      return db.transaction(async (tx) => {
        const before = await findMember(tx, p.orgId, id);
        const [after] = await tx
          .update(users)
          .set({
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(passwordHash ? { passwordHash } : {}),
            updatedAt: new Date(),
          })
          .where(eq(users.id, id))
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: passwordHash ? 'user.password_change' : 'user.update',
          target: { type: 'user', id },
          before: { name: before.user.name },
          after: { name: after!.name },
        });
        return { user: after!, role: before.role };
      });
    },

    /** Removes the user from this org; the account itself stays for other orgs. */
    async removeUser(p: Principal, id: string, ctx: AuditContext) {
      requirePermission(p, 'read');
      const member = await findMember(db, p.orgId, id);
      requirePermission(p, 'manage_members');
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
      requirePermission(p, 'read');
      return db
        .select({ membership: memberships, email: users.email })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.orgId, p.orgId), cursor ? gt(memberships.id, cursor) : undefined))
        .orderBy(asc(memberships.id))
        .limit(limit + 1);
    },

    async getMembership(p: Principal, id: string) {
      requirePermission(p, 'read');
      return findMembership(db, p.orgId, id);
    },

    async createMembership(
      p: Principal,
      input: { user_id?: string | undefined; email?: string | undefined; role: Role },
      ctx: AuditContext,
    ) {
      requirePermission(p, 'manage_members');
      return db.transaction(async (tx) => {
        const [user] = await tx
          .select({ id: users.id })
          .from(users)
          .where(
            input.user_id ? eq(users.id, input.user_id) : eq(users.email, (input.email ?? '').toLowerCase()),
          );
        if (!user) throw notFound('user');
        await guardOwnerChange(tx, p, p.orgId, null, input.role);
        const [dupe] = await tx
          .select({ id: memberships.id })
          .from(memberships)
          .where(and(eq(memberships.orgId, p.orgId), eq(memberships.userId, user.id)));
        if (dupe) throw conflict('this user is already a member of the org');
        const [row] = await tx
          .insert(memberships)
          .values({ id: newId('mem'), orgId: p.orgId, userId: user.id, role: input.role })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'membership.create',
          target: { type: 'membership', id: row!.id },
          after: row,
        });
        return row!;
      });
    },

    async updateMembership(p: Principal, id: string, role: Role, ctx: AuditContext) {
      requirePermission(p, 'read');
      await findMembership(db, p.orgId, id);
      requirePermission(p, 'manage_members');
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
      requirePermission(p, 'read');
      await findMembership(db, p.orgId, id);
      requirePermission(p, 'manage_members');
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
