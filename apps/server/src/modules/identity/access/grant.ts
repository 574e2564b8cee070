import { and, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.ts';
import {
  builtInPermissions,
  isPermissionName,
  type PermissionGrant,
  type PermissionName,
  PROJECT_SCOPED,
} from '../../../http/permissions.ts';
import type { Role } from '../../../http/principal.ts';
import { customRoles, roleAssignments } from '../roles-schema.ts';
import { memberships, users } from '../schema.ts';

/** Where a permission comes from: the org role, or a role in one project. */
export type PermissionSource =
  | { kind: 'org_role'; role: string; role_id: string | null }
  | { kind: 'project_role'; project_id: string; role: string; role_id: string | null };

export interface Assignment {
  projectId: string | null;
  role: Role | null;
  roleId: string | null;
  roleName: string | null;
  permissions: string[] | null;
}

export function loadAssignments(tx: DbOrTx, orgId: string, userId: string): Promise<Assignment[]> {
  return tx
    .select({
      projectId: roleAssignments.projectId,
      role: roleAssignments.role,
      roleId: roleAssignments.roleId,
      roleName: customRoles.name,
      permissions: customRoles.permissions,
    })
    .from(roleAssignments)
    .leftJoin(customRoles, eq(customRoles.id, roleAssignments.roleId))
    .where(and(eq(roleAssignments.orgId, orgId), eq(roleAssignments.userId, userId)));
}

/** A stored permission list, read defensively: names dropped from the catalogue grant nothing. */
export const knownPermissions = (names: readonly string[] | null): PermissionName[] =>
  (names ?? []).filter(isPermissionName);

const assigned = (a: Assignment): PermissionName[] =>
  a.roleId ? knownPermissions(a.permissions) : a.role ? builtInPermissions(a.role) : [];

/** A member's permissions, each with the roles it comes from. */
export function explainGrant(baseRole: Role, assignments: readonly Assignment[]) {
  const sources = new Map<PermissionName, PermissionSource[]>();
  const add = (name: PermissionName, source: PermissionSource) => {
    const list = sources.get(name) ?? [];
    list.push(source);
    sources.set(name, list);
  };
  const custom = assignments.find((a) => a.projectId === null && a.roleId);
  const orgPermissions = custom ? assigned(custom) : builtInPermissions(baseRole);
  const orgSource: PermissionSource = custom
    ? { kind: 'org_role', role: custom.roleName ?? custom.roleId!, role_id: custom.roleId }
    : { kind: 'org_role', role: baseRole, role_id: null };
  for (const name of orgPermissions) add(name, orgSource);

  const projects = new Map<string, Set<PermissionName>>();
  for (const a of assignments) {
    if (!a.projectId) continue;
    const set = projects.get(a.projectId) ?? new Set<PermissionName>();
    const source: PermissionSource = {
      kind: 'project_role',
      project_id: a.projectId,
      role: a.roleName ?? a.role ?? a.roleId!,
      role_id: a.roleId,
    };
    for (const name of assigned(a)) {
      if (!PROJECT_SCOPED.has(name)) continue;
      set.add(name);
      add(name, source);
    }
    projects.set(a.projectId, set);
  }
  const grant: PermissionGrant = { org: new Set(orgPermissions), projects };
  return { grant, sources };
}

export async function loadGrant(tx: DbOrTx, orgId: string, userId: string, baseRole: Role) {
  return explainGrant(baseRole, await loadAssignments(tx, orgId, userId)).grant;
}

/** What a project-bound caller holds there: the org's permissions and the project's. */
export function permissionsIn(grant: PermissionGrant, projectId: string): Set<PermissionName> {
  return new Set([...grant.org, ...(grant.projects.get(projectId) ?? [])]);
}

/**
 * Whether a user, as they are now, holds `permission` in a project of the org: a member who left,
 * was disabled or lost the role holds nothing (work queued in their name stops with them).
 */
export async function memberHolds(
  db: DbOrTx,
  orgId: string,
  userId: string,
  projectId: string,
  permission: PermissionName,
): Promise<boolean> {
  const [m] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId), isNull(users.disabledAt)));
  if (!m) return false;
  return permissionsIn(await loadGrant(db, orgId, userId, m.role), projectId).has(permission);
}
