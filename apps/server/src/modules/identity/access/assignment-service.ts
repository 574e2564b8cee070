import { and, asc, eq, isNotNull, isNull } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../../db/client.ts';
import { AppError, forbidden, notFound } from '../../../http/app-error.ts';
import { type PermissionName, PROJECT_SCOPED } from '../../../http/permissions.ts';
import type { Principal } from '../../../http/principal.ts';
import { newId } from '../../../ids.ts';
import type { AuditContext, AuditService } from '../../audit/index.ts';
import { customRoles, roleAssignments } from '../roles-schema.ts';
import { memberships, projects, users } from '../schema.ts';
import { explainGrant, loadAssignments, permissionsIn } from './grant.ts';
import { assertMayGrant, orgPermissionsOf, type RoleService, type RoleView } from './role-service.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  roles: RoleService;
}

export type ProjectMemberRow = Awaited<
  ReturnType<ReturnType<typeof createAssignmentService>['listProject']>
>[number];

/** Who holds which role where: custom org roles, project roles, and the permissions they add up to. */
export function createAssignmentService({ db, audit, roles }: Deps) {
  async function findMembership(tx: DbOrTx, orgId: string, where: { id?: string; userId?: string }) {
    const [row] = await tx
      .select()
      .from(memberships)
      .where(
        and(
          eq(memberships.orgId, orgId),
          where.id ? eq(memberships.id, where.id) : eq(memberships.userId, where.userId!),
        ),
      );
    if (!row) throw notFound(where.id ? 'membership' : 'user');
    return row;
  }

  async function findProject(tx: DbOrTx, orgId: string, id: string) {
    const [row] = await tx
      .select({ id: projects.id })
      .from(projects)
      .where(and(eq(projects.id, id), eq(projects.orgId, orgId)));
    if (!row) throw notFound('project');
  }

  const projectRoleOf = (role: RoleView) => {
    if (role.id === 'owner') throw new AppError('unprocessable', 'owner is an org role, not a project role');
    return role.permissions.filter((name) => PROJECT_SCOPED.has(name));
  };

  return {
    /**
     * Gives a member a custom org role: its permissions replace the built-in role's, which drops to
     * viewer (the template nothing else reads more into). The last owner keeps ownership.
     */
    async setOrgRole(p: Principal, membershipId: string, roleId: string, ctx: AuditContext) {
      const role = await roles.resolve(db, p.orgId, roleId);
      if (role.builtIn)
        throw new AppError('unprocessable', 'a built-in role is set with `role`, not `role_id`');
      const target = await findMembership(db, p.orgId, { id: membershipId });
      assertMayGrant(orgPermissionsOf(p), role.permissions);
      return db.transaction(async (tx) => {
        const before = await findMembership(tx, p.orgId, { id: membershipId });
        if (before.role === 'owner') {
          if (!(p.kind === 'user' && p.role === 'owner'))
            throw forbidden('only an owner may remove the owner role');
          const owners = await tx
            .select({ id: memberships.id })
            .from(memberships)
            .where(and(eq(memberships.orgId, p.orgId), eq(memberships.role, 'owner')));
          if (owners.length <= 1) throw new AppError('unprocessable', 'an org must keep at least one owner');
        }
        const [after] = await tx
          .update(memberships)
          .set({ role: 'viewer', updatedAt: new Date() })
          .where(eq(memberships.id, membershipId))
          .returning();
        await tx
          .insert(roleAssignments)
          .values({ id: newId('ras'), orgId: p.orgId, userId: target.userId, roleId: role.id })
          .onConflictDoUpdate({
            target: [roleAssignments.orgId, roleAssignments.userId],
            targetWhere: isNull(roleAssignments.projectId),
            set: { roleId: role.id, updatedAt: new Date() },
          });
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'membership.update',
          target: { type: 'membership', id: membershipId },
          before,
          after: { ...after, role_id: role.id },
        });
        return { membership: after!, role };
      });
    },

    /** Back to a built-in role: the custom org role, if any, no longer applies. */
    async clearOrgRole(p: Principal, membershipId: string, ctx: AuditContext): Promise<void> {
      await db.transaction(async (tx) => {
        const m = await findMembership(tx, p.orgId, { id: membershipId });
        const removed = await tx
          .delete(roleAssignments)
          .where(
            and(
              eq(roleAssignments.orgId, p.orgId),
              eq(roleAssignments.userId, m.userId),
              isNull(roleAssignments.projectId),
            ),
          )
          .returning();
        if (removed.length === 0) return;
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'role_assignment.delete',
          target: { type: 'membership', id: membershipId },
          before: removed[0],
        });
      });
    },

    /** The custom org role of each member that has one (membership lists show it). */
    async orgRoles(orgId: string): Promise<Map<string, { id: string; name: string }>> {
      const rows = await db
        .select({ userId: roleAssignments.userId, id: customRoles.id, name: customRoles.name })
        .from(roleAssignments)
        .innerJoin(customRoles, eq(customRoles.id, roleAssignments.roleId))
        .where(and(eq(roleAssignments.orgId, orgId), isNull(roleAssignments.projectId)));
      return new Map(rows.map((r) => [r.userId, { id: r.id, name: r.name }]));
    },

    async listProject(p: Principal, projectId: string) {
      await findProject(db, p.orgId, projectId);
      return db
        .select({
          userId: roleAssignments.userId,
          email: users.email,
          role: roleAssignments.role,
          roleId: roleAssignments.roleId,
          roleName: customRoles.name,
          updatedAt: roleAssignments.updatedAt,
        })
        .from(roleAssignments)
        .innerJoin(users, eq(users.id, roleAssignments.userId))
        .leftJoin(customRoles, eq(customRoles.id, roleAssignments.roleId))
        .where(and(eq(roleAssignments.orgId, p.orgId), eq(roleAssignments.projectId, projectId)))
        .orderBy(asc(users.email));
    },

    /** A member's role in one project: adds the role's project permissions there only. */
    async setProjectRole(p: Principal, projectId: string, userId: string, roleId: string, ctx: AuditContext) {
      await findProject(db, p.orgId, projectId);
      await findMembership(db, p.orgId, { userId });
      const role = await roles.resolve(db, p.orgId, roleId);
      const wanted = projectRoleOf(role);
      const held = p.permissions ? permissionsIn(p.permissions, projectId) : orgPermissionsOf(p);
      assertMayGrant(held, wanted);
      const values = role.builtIn
        ? { role: role.id as 'viewer', roleId: null }
        : { role: null, roleId: role.id };
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(roleAssignments)
          .values({ id: newId('ras'), orgId: p.orgId, userId, projectId, ...values })
          .onConflictDoUpdate({
            target: [roleAssignments.projectId, roleAssignments.userId],
            targetWhere: isNotNull(roleAssignments.projectId),
            set: { ...values, updatedAt: new Date() },
          })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'role_assignment.set',
          target: { type: 'project', id: projectId },
          after: row,
        });
        return { row: row!, role, permissions: wanted };
      });
    },

    async removeProjectRole(p: Principal, projectId: string, userId: string, ctx: AuditContext) {
      await findProject(db, p.orgId, projectId);
      await db.transaction(async (tx) => {
        const removed = await tx
          .delete(roleAssignments)
          .where(
            and(
              eq(roleAssignments.orgId, p.orgId),
              eq(roleAssignments.projectId, projectId),
              eq(roleAssignments.userId, userId),
            ),
          )
          .returning();
        if (removed.length === 0) throw notFound('project role');
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'role_assignment.delete',
          target: { type: 'project', id: projectId },
          before: removed[0],
        });
      });
    },

    /** A member's effective permissions: the union of the org role and project roles, with sources. */
    async effective(orgId: string, userId: string) {
      const m = await findMembership(db, orgId, { userId });
      const assignments = await loadAssignments(db, orgId, userId);
      const { grant, sources } = explainGrant(m.role, assignments);
      const orgCustom = assignments.find((a) => a.projectId === null && a.roleId);
      return {
        userId,
        orgRole: orgCustom
          ? { id: orgCustom.roleId!, name: orgCustom.roleName ?? orgCustom.roleId! }
          : { id: m.role, name: m.role },
        grant,
        sources: [...sources.entries()].map(([name, from]) => ({ name, from })) as {
          name: PermissionName;
          from: typeof sources extends Map<PermissionName, infer S> ? S : never;
        }[],
      };
    },
  };
}

export type AssignmentService = ReturnType<typeof createAssignmentService>;
