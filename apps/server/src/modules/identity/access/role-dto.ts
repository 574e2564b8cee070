import { z } from 'zod';
import { LEVELS, PERMISSIONS, type PermissionGrant, type PermissionName } from '../../../http/permissions.ts';
import type { PermissionSource } from './grant.ts';
import type { RoleView } from './role-service.ts';

export const permissionNameSchema = z.enum(PERMISSIONS as [PermissionName, ...PermissionName[]]);

export const permissionDto = z.object({
  name: permissionNameSchema,
  area: z.string(),
  level: z.enum(LEVELS).describe('the built-in role that first holds it'),
  description: z.string(),
});

const roleName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'letters, digits, spaces, dots, dashes and underscores');

export const createRoleBody = z.strictObject({
  name: roleName,
  description: z.string().max(500).nullish(),
  permissions: z.array(permissionNameSchema).max(PERMISSIONS.length * 2),
});

export const updateRoleBody = z.strictObject({
  name: roleName.optional(),
  description: z.string().max(500).nullish(),
  permissions: z
    .array(permissionNameSchema)
    .max(PERMISSIONS.length * 2)
    .optional(),
});

/** A built-in role's id is its name (`viewer` …); a custom role's is `rol_…`. */
export const roleIdParams = z.strictObject({
  id: z.string().regex(/^[a-z0-9_]{1,100}$/, 'not a valid role id'),
});

export const roleDto = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  built_in: z.boolean(),
  permissions: z.array(permissionNameSchema),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
});

export const toRoleDto = (r: RoleView): z.infer<typeof roleDto> => ({
  id: r.id,
  name: r.name,
  description: r.description,
  built_in: r.builtIn,
  permissions: r.permissions,
  created_at: r.createdAt?.toISOString() ?? null,
  updated_at: r.updatedAt?.toISOString() ?? null,
});

export const projectMemberDto = z.object({
  project_id: z.string(),
  user_id: z.string(),
  email: z.string(),
  role: z.object({ id: z.string(), name: z.string() }),
  updated_at: z.string(),
});

export const setProjectRoleBody = z.strictObject({
  role: z
    .string()
    .regex(/^[a-z0-9_]{1,100}$/, 'not a valid role id')
    .describe('a built-in role (viewer, operator, admin) or a custom role id'),
});

const sourceDto = z.object({
  kind: z.enum(['org_role', 'project_role']),
  role: z.string(),
  role_id: z.string().nullable(),
  project_id: z.string().optional(),
});

export const effectivePermissionsDto = z.object({
  user_id: z.string(),
  org_role: z.object({ id: z.string(), name: z.string() }),
  /** held in the whole org */
  org: z.array(permissionNameSchema),
  /** held only in these projects (on top of the org's) */
  projects: z.array(z.object({ project_id: z.string(), permissions: z.array(permissionNameSchema) })),
  permissions: z.array(z.object({ name: permissionNameSchema, sources: z.array(sourceDto) })),
});

export function toEffectiveDto(e: {
  userId: string;
  orgRole: { id: string; name: string };
  grant: PermissionGrant;
  sources: { name: PermissionName; from: PermissionSource[] }[];
}): z.infer<typeof effectivePermissionsDto> {
  const order = (names: Iterable<PermissionName>) =>
    [...names].sort((a, b) => PERMISSIONS.indexOf(a) - PERMISSIONS.indexOf(b));
  return {
    user_id: e.userId,
    org_role: e.orgRole,
    org: order(e.grant.org),
    projects: [...e.grant.projects.entries()].map(([project_id, names]) => ({
      project_id,
      permissions: order([...names].filter((n) => !e.grant.org.has(n))),
    })),
    permissions: e.sources
      .sort((a, b) => PERMISSIONS.indexOf(a.name) - PERMISSIONS.indexOf(b.name))
      .map((s) => ({ name: s.name, sources: s.from })),
  };
}
