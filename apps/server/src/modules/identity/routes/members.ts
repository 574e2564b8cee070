import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, forbidden } from '../../../http/app-error.ts';
import { listQuery, page, pageOf } from '../../../http/pagination.ts';
import { idParams } from '../../../http/params.ts';
import { builtInPermissions } from '../../../http/permissions.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { assertMayGrant, orgPermissionsOf } from '../access/role-service.ts';
import {
  emailSchema,
  invitationDto,
  membershipDto,
  roleSchema,
  toInvitationDto,
  toMembershipDto,
  toUserDto,
  userDto,
} from '../dto.ts';
import { MIN_PASSWORD_LENGTH } from '../password-policy.ts';
import type { IdentityService } from '../service.ts';

const memberDto = membershipDto.extend({
  custom_role: z.object({ id: z.string(), name: z.string() }).nullable(),
});

const password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024)
  .describe(
    `at least ${MIN_PASSWORD_LENGTH} characters, not the email address, not one of the most common passwords`,
  );

export interface MemberRouteDeps {
  identity: Pick<IdentityService, 'members' | 'auth' | 'assignments'>;
}

export async function memberRoutes(app: FastifyInstance, { identity }: MemberRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { members, auth, assignments } = identity;
  /** a membership with its custom org role, if it has one */
  const withCustomRole = async (m: Parameters<typeof toMembershipDto>[0], email?: string) => ({
    ...toMembershipDto(m, email),
    custom_role: (await assignments.orgRoles(m.orgId)).get(m.userId) ?? null,
  });

  r.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Members of your org',
        querystring: listQuery,
        response: { 200: pageOf(userDto) },
      },
    },
    async (req) => {
      const rows = await members.listUsers(principalOf(req), req.query.limit, req.query.cursor);
      const result = page(
        rows.map((row) => ({ ...row, id: row.user.id })),
        req.query.limit,
      );
      return {
        data: result.data.map((row) => toUserDto(row.user, row.role)),
        next_cursor: result.next_cursor,
      };
    },
  );

  r.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user in your org (platform admins), or invite them',
        description:
          'A platform admin gets the new user, already a member (409 if the email has an account). ' +
          'Anyone else gets a pending invitation, the same answer whether or not the email already ' +
          'has an account: a new account is created with this password and joins at its first ' +
          'sign-in; an existing account keeps its own password and must accept the invitation.',
        body: z.strictObject({
          email: emailSchema,
          name: z.string().trim().min(1).max(200).optional(),
          password,
          role: roleSchema.default('viewer'),
        }),
        response: { 201: z.union([userDto, invitationDto]) },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      assertMayGrant(orgPermissionsOf(p), builtInPermissions(req.body.role));
      const created = await members.createUser(p, req.body, auditContextOf(req));
      return reply
        .code(201)
        .send(
          created.kind === 'user'
            ? toUserDto(created.user, created.role)
            : toInvitationDto(created.invitation),
        );
    },
  );

  r.get(
    '/users/:id',
    { schema: { tags: ['users'], params: idParams, response: { 200: userDto } } },
    async (req) => {
      const row = await members.getUser(principalOf(req), req.params.id);
      return toUserDto(row.user, row.role);
    },
  );

  r.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change your own name or password',
        description:
          'Only the user changes their own name (and platform admins anyone’s). A new password needs ' +
          '`current_password` and ends every other session of the user.',
        params: idParams,
        body: z.strictObject({
          name: z.string().trim().min(1).max(200).nullable().optional(),
          password: password.optional(),
          current_password: z.string().min(1).max(1024).optional(),
        }),
        response: { 200: userDto },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const ctx = auditContextOf(req);
      const { name, password: next, current_password } = req.body;
      await members.getUser(p, req.params.id);
      if (next !== undefined) {
        if (p.kind !== 'user' || p.userId !== req.params.id)
          throw forbidden('only the user may change their own password');
        await auth.changePassword(p, { current: current_password, next }, ctx);
      } else if (current_password !== undefined) {
        throw new AppError('validation_failed', 'current_password: only with a new password', undefined, {
          param: 'current_password',
        });
      }
      if (name !== undefined) await members.renameUser(p, req.params.id, name, ctx);
      const row = await members.getUser(p, req.params.id);
      return toUserDto(row.user, row.role);
    },
  );

  r.delete(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Remove the user from your org',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await members.removeUser(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/memberships',
    { schema: { tags: ['memberships'], querystring: listQuery, response: { 200: pageOf(memberDto) } } },
    async (req) => {
      const rows = await members.listMemberships(principalOf(req), req.query.limit, req.query.cursor);
      const result = page(
        rows.map((row) => ({ ...row, id: row.membership.id })),
        req.query.limit,
      );
      const custom = await assignments.orgRoles(principalOf(req).orgId);
      return {
        data: result.data.map((row) => ({
          ...toMembershipDto(row.membership, row.email),
          custom_role: custom.get(row.membership.userId) ?? null,
        })),
        next_cursor: result.next_cursor,
      };
    },
  );

  r.post(
    '/memberships',
    {
      schema: {
        tags: ['memberships'],
        summary: 'Invite someone to your org by email (same as POST /invitations)',
        description:
          'The membership exists once the invitee accepts. The answer is the same whether or not the ' +
          'email has an account.',
        body: z.strictObject({ email: emailSchema, role: roleSchema }),
        response: { 201: invitationDto },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      assertMayGrant(orgPermissionsOf(p), builtInPermissions(req.body.role));
      return reply
        .code(201)
        .send(toInvitationDto(await members.createMembership(p, req.body, auditContextOf(req))));
    },
  );

  r.get(
    '/memberships/:id',
    { schema: { tags: ['memberships'], params: idParams, response: { 200: memberDto } } },
    async (req) => withCustomRole(await members.getMembership(principalOf(req), req.params.id)),
  );

  r.patch(
    '/memberships/:id',
    {
      schema: {
        tags: ['memberships'],
        summary: 'Change a member role',
        description:
          '`role` sets a built-in role; `role_id` a custom role of the org (it replaces the built-in ' +
          "role's permissions). Nobody grants a permission they do not hold.",
        params: idParams,
        body: z.union([
          z.strictObject({ role: roleSchema }),
          z.strictObject({ role_id: z.string().regex(/^rol_[a-z0-9]{1,100}$/, 'not a custom role id') }),
        ]),
        response: { 200: memberDto },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const ctx = auditContextOf(req);
      if ('role_id' in req.body) {
        const { membership } = await assignments.setOrgRole(p, req.params.id, req.body.role_id, ctx);
        return withCustomRole(membership);
      }
      await members.getMembership(p, req.params.id);
      assertMayGrant(orgPermissionsOf(p), builtInPermissions(req.body.role));
      const membership = await members.updateMembership(p, req.params.id, req.body.role, ctx);
      await assignments.clearOrgRole(p, req.params.id, ctx);
      return withCustomRole(membership);
    },
  );

  r.delete(
    '/memberships/:id',
    { schema: { tags: ['memberships'], params: idParams, response: { 204: z.null() } } },
    async (req, reply) => {
      await members.removeMembership(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );
}
