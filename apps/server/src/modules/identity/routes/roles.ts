import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { forbidden } from '../../../http/app-error.ts';
import { idParams } from '../../../http/params.ts';
import { PERMISSIONS } from '../../../http/permissions.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import {
  createRoleBody,
  effectivePermissionsDto,
  permissionDto,
  projectMemberDto,
  roleDto,
  roleIdParams,
  setProjectRoleBody,
  toEffectiveDto,
  toRoleDto,
  updateRoleBody,
} from '../access/role-dto.ts';
import type { IdentityService } from '../service.ts';

const projectMemberParams = idParams.extend({
  user_id: z.string().regex(/^[A-Za-z0-9_]{1,100}$/, 'not a valid id'),
});

export interface RoleRouteDeps {
  identity: Pick<IdentityService, 'roles' | 'assignments'>;
}

/** Roles (built-in templates and the org's own), project roles and effective permissions. */
export async function roleRoutes(app: FastifyInstance, { identity }: RoleRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { roles, assignments } = identity;
  const tags = ['roles'];

  r.get(
    '/permissions',
    {
      schema: {
        tags,
        summary: 'The permission catalogue',
        description:
          'Every named permission a role may hold; each admin operation names its own as x-maas-permission.',
        response: { 200: z.object({ data: z.array(permissionDto) }) },
      },
    },
    async () => ({ data: roles.catalogue(PERMISSIONS) }),
  );

  r.get(
    '/roles',
    {
      schema: {
        tags,
        summary: 'Built-in and custom roles of your org',
        response: { 200: z.object({ data: z.array(roleDto), next_cursor: z.null() }) },
      },
    },
    async (req) => ({ data: (await roles.list(principalOf(req))).map(toRoleDto), next_cursor: null }),
  );

  r.post(
    '/roles',
    {
      schema: {
        tags,
        summary: 'Create a custom role',
        description: 'A role may only hold permissions its creator holds (403 naming the missing ones).',
        body: createRoleBody,
        response: { 201: roleDto },
      },
    },
    async (req, reply) =>
      reply.code(201).send(toRoleDto(await roles.create(principalOf(req), req.body, auditContextOf(req)))),
  );

  r.get('/roles/:id', { schema: { tags, params: roleIdParams, response: { 200: roleDto } } }, async (req) =>
    toRoleDto(await roles.get(principalOf(req), req.params.id)),
  );

  r.patch(
    '/roles/:id',
    {
      schema: {
        tags,
        summary: 'Change a custom role (built-in roles are immutable: 422)',
        params: roleIdParams,
        body: updateRoleBody,
        response: { 200: roleDto },
      },
    },
    async (req) =>
      toRoleDto(await roles.update(principalOf(req), req.params.id, req.body, auditContextOf(req))),
  );

  r.delete(
    '/roles/:id',
    {
      schema: {
        tags,
        summary: 'Delete a custom role (409 while assigned)',
        params: roleIdParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await roles.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/projects/:id/members',
    {
      schema: {
        tags,
        summary: "Members' roles in a project",
        params: idParams,
        response: { 200: z.object({ data: z.array(projectMemberDto) }) },
      },
    },
    async (req) => {
      const rows = await assignments.listProject(principalOf(req), req.params.id);
      return {
        data: rows.map((row) => ({
          project_id: req.params.id,
          user_id: row.userId,
          email: row.email,
          role: { id: row.roleId ?? row.role ?? '', name: row.roleName ?? row.role ?? '' },
          updated_at: row.updatedAt.toISOString(),
        })),
      };
    },
  );

  r.put(
    '/projects/:id/members/:user_id',
    {
      schema: {
        tags,
        summary: "Set a member's role in a project",
        description:
          'The role adds its project permissions (projects, keys, limits, usage, knowledge bases) in this project only. ' +
          'Nobody grants a permission they do not hold there.',
        params: projectMemberParams,
        body: setProjectRoleBody,
        response: { 200: projectMemberDto },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const set = await assignments.setProjectRole(
        p,
        req.params.id,
        req.params.user_id,
        req.body.role,
        auditContextOf(req),
      );
      const row = (await assignments.listProject(p, req.params.id)).find(
        (m) => m.userId === req.params.user_id,
      )!;
      return {
        project_id: req.params.id,
        user_id: row.userId,
        email: row.email,
        role: { id: set.role.id, name: set.role.name },
        updated_at: row.updatedAt.toISOString(),
      };
    },
  );

  r.delete(
    '/projects/:id/members/:user_id',
    { schema: { tags, params: projectMemberParams, response: { 204: z.null() } } },
    async (req, reply) => {
      await assignments.removeProjectRole(
        principalOf(req),
        req.params.id,
        req.params.user_id,
        auditContextOf(req),
      );
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/users/:id/permissions',
    {
      schema: {
        tags,
        summary: "A member's effective permissions",
        description:
          'The union of the org role and the project roles, each permission with where it comes from.',
        params: idParams,
        response: { 200: effectivePermissionsDto },
      },
    },
    async (req) => toEffectiveDto(await assignments.effective(principalOf(req).orgId, req.params.id)),
  );

  r.get(
    '/me/permissions',
    { schema: { tags, summary: 'Your effective permissions', response: { 200: effectivePermissionsDto } } },
    async (req) => {
      const p = principalOf(req);
      if (p.kind !== 'user') throw forbidden('an API key has no member permissions: see its scopes');
      return toEffectiveDto(await assignments.effective(p.orgId, p.userId));
    },
  );
}
