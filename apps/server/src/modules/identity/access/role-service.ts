import { ROLES } from '@maas/contracts';
import { and, asc, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../../db/client.ts';
import { AppError, conflict, notFound } from '../../../http/app-error.ts';
import {
  builtInPermissions,
  PERMISSIONS,
  type PermissionName,
  permissionInfo,
} from '../../../http/permissions.ts';
import type { Principal, Role } from '../../../http/principal.ts';
import { newId } from '../../../ids.ts';
import type { AuditContext, AuditService } from '../../audit/index.ts';
import { customRoles, roleAssignments } from '../roles-schema.ts';
import { knownPermissions } from './grant.ts';

interface Deps {
  db: Db;
  audit: AuditService;
}

export type CustomRoleRow = typeof customRoles.$inferSelect;

/** A role as the API shows it: a built-in template (id = its name) or one of the org's own. */
export interface RoleView {
  id: string;
  name: string;
  description: string | null;
  builtIn: boolean;
  permissions: PermissionName[];
  createdAt: Date | null;
  updatedAt: Date | null;
}

const BUILT_IN_DESCRIPTIONS: Record<Role, string> = {
  viewer: 'Reads everything in the org',
  operator: 'Reads everything and changes resources (keys, models, deployments …)',
  admin: 'An operator who also manages members, roles and org settings',
  owner: 'An admin who may also delete the org and grant ownership',
};

const isBuiltIn = (id: string): id is Role => (ROLES as readonly string[]).includes(id);

const builtInView = (role: Role): RoleView => ({
  id: role,
  name: role,
  description: BUILT_IN_DESCRIPTIONS[role],
  builtIn: true,
  permissions: builtInPermissions(role),
  createdAt: null,
  updatedAt: null,
});

const customView = (row: CustomRoleRow): RoleView => ({
  id: row.id,
  name: row.name,
  description: row.description,
  builtIn: false,
  permissions: knownPermissions(row.permissions),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Stored once each, in the catalogue's order (lists and diffs then read the same). */
const inCatalogueOrder = (names: readonly PermissionName[]) => PERMISSIONS.filter((n) => names.includes(n));

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

/** The caller's org-wide permissions (a user without a loaded grant has its built-in role's). */
export function orgPermissionsOf(p: Principal): ReadonlySet<PermissionName> {
  if (p.permissions) return p.permissions.org;
  return new Set(p.kind === 'user' ? builtInPermissions(p.role) : []);
}

/** Nobody hands out a permission they do not hold themselves. */
export function assertMayGrant(held: ReadonlySet<PermissionName>, wanted: readonly PermissionName[]): void {
  const missing = wanted.filter((name) => !held.has(name));
  if (missing.length > 0) {
    throw new AppError('forbidden', `you may not grant permissions you do not hold: ${missing.join(', ')}`, {
      missing,
    });
  }
}

export function createRoleService({ db, audit }: Deps) {
  async function findCustom(tx: DbOrTx, orgId: string, id: string): Promise<CustomRoleRow> {
    const [row] = await tx
      .select()
      .from(customRoles)
      .where(and(eq(customRoles.id, id), eq(customRoles.orgId, orgId)));
    if (!row) throw notFound('role');
    return row;
  }

  const refuseBuiltIn = (id: string) => {
    if (isBuiltIn(id)) throw new AppError('unprocessable', `${id} is a built-in role: it cannot be changed`);
  };

  const checkName = (name: string) => {
    if (isBuiltIn(name)) throw conflict(`"${name}" is the name of a built-in role`);
  };

  return {
    findCustom,

    /** A role of the org by id: a built-in name or a custom role id (another org's is a 404). */
    async resolve(tx: DbOrTx, orgId: string, id: string): Promise<RoleView> {
      return isBuiltIn(id) ? builtInView(id) : customView(await findCustom(tx, orgId, id));
    },

    async list(p: Principal): Promise<RoleView[]> {
      const rows = await db
        .select()
        .from(customRoles)
        .where(eq(customRoles.orgId, p.orgId))
        .orderBy(asc(customRoles.name));
      return [...ROLES.map(builtInView), ...rows.map(customView)];
    },

    async get(p: Principal, id: string): Promise<RoleView> {
      return isBuiltIn(id) ? builtInView(id) : customView(await findCustom(db, p.orgId, id));
    },

    async create(
      p: Principal,
      input: { name: string; description?: string | null | undefined; permissions: PermissionName[] },
      ctx: AuditContext,
    ): Promise<RoleView> {
      checkName(input.name);
      assertMayGrant(orgPermissionsOf(p), input.permissions);
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(customRoles)
            .values({
              id: newId('rol'),
              orgId: p.orgId,
              name: input.name,
              description: input.description ?? null,
              permissions: inCatalogueOrder(input.permissions),
            })
            .returning();
          await audit.append(tx, ctx, {
            orgId: p.orgId,
            action: 'role.create',
            target: { type: 'role', id: row!.id },
            after: row,
          });
          return customView(row!);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a role named "${input.name}" already exists`);
        throw err;
      }
    },

    async update(
      p: Principal,
      id: string,
      patch: {
        name?: string | undefined;
        description?: string | null | undefined;
        permissions?: PermissionName[];
      },
      ctx: AuditContext,
    ): Promise<RoleView> {
      refuseBuiltIn(id);
      await findCustom(db, p.orgId, id);
      if (patch.name !== undefined) checkName(patch.name);
      if (patch.permissions) assertMayGrant(orgPermissionsOf(p), patch.permissions);
      try {
        return await db.transaction(async (tx) => {
          const before = await findCustom(tx, p.orgId, id);
          const [after] = await tx
            .update(customRoles)
            .set({
              ...(patch.name !== undefined ? { name: patch.name } : {}),
              ...(patch.description !== undefined ? { description: patch.description } : {}),
              ...(patch.permissions ? { permissions: inCatalogueOrder(patch.permissions) } : {}),
              updatedAt: new Date(),
            })
            .where(eq(customRoles.id, id))
            .returning();
          await audit.append(tx, ctx, {
            orgId: p.orgId,
            action: 'role.update',
            target: { type: 'role', id },
            before,
            after,
          });
          return customView(after!);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a role named "${patch.name}" already exists`);
        throw err;
      }
    },

    async remove(p: Principal, id: string, ctx: AuditContext): Promise<void> {
      refuseBuiltIn(id);
      await findCustom(db, p.orgId, id);
      await db.transaction(async (tx) => {
        const before = await findCustom(tx, p.orgId, id);
        const [used] = await tx
          .select({ id: roleAssignments.id })
          .from(roleAssignments)
          .where(eq(roleAssignments.roleId, id))
          .limit(1);
        if (used) throw conflict('the role is assigned to members: assign them another role first');
        await tx.delete(customRoles).where(eq(customRoles.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'role.delete',
          target: { type: 'role', id },
          before,
        });
      });
    },

    /** The catalogue, for editors: every permission with its area and the built-in role that holds it. */
    catalogue: (names: readonly PermissionName[]) => names.map((name) => ({ name, ...permissionInfo(name) })),
  };
}

export type RoleService = ReturnType<typeof createRoleService>;
