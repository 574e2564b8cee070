import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listQuery, page, pageOf } from '../../../http/pagination.ts';
import { idParams } from '../../../http/params.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import type { Services } from '../../../services.ts';
import { emailSchema, membershipDto, roleSchema, toMembershipDto, toUserDto, userDto } from '../dto.ts';

const password = z.string().min(8, 'must be at least 8 characters').max(1024);

export async function memberRoutes(app: FastifyInstance, { services }: { services: Services }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { members } = services.identity;

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
        summary: 'Create a user as a member of your org',
        body: z.strictObject({
          email: emailSchema,
          name: z.string().trim().min(1).max(200).optional(),
          password,
          role: roleSchema.default('viewer'),
        }),
        response: { 201: userDto },
      },
    },
    async (req, reply) => {
      const { user, role } = await members.createUser(principalOf(req), req.body, auditContextOf(req));
      return reply.code(201).send(toUserDto(user, role));
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
        summary: 'Rename a member, or change your own password',
        params: idParams,
        body: z.strictObject({
          name: z.string().trim().min(1).max(200).nullable().optional(),
          password: password.optional(),
        }),
        response: { 200: userDto },
      },
    },
    async (req) => {
      const { user, role } = await members.updateUser(
        principalOf(req),
        req.params.id,
        req.body,
        auditContextOf(req),
      );
      return toUserDto(user, role);
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
    { schema: { tags: ['memberships'], querystring: listQuery, response: { 200: pageOf(membershipDto) } } },
    async (req) => {
      const rows = await members.listMemberships(principalOf(req), req.query.limit, req.query.cursor);
      const result = page(
        rows.map((row) => ({ ...row, id: row.membership.id })),
        req.query.limit,
      );
      return {
        data: result.data.map((row) => toMembershipDto(row.membership, row.email)),
        next_cursor: result.next_cursor,
      };
    },
  );

  r.post(
    '/memberships',
    {
      schema: {
        tags: ['memberships'],
        summary: 'Add an existing user to your org',
        body: z
          .strictObject({
            user_id: z.string().max(100).optional(),
            email: emailSchema.optional(),
            role: roleSchema,
          })
          .refine((b) => Boolean(b.user_id) !== Boolean(b.email), {
            message: 'give exactly one of user_id or email',
          }),
        response: { 201: membershipDto },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(
          toMembershipDto(await members.createMembership(principalOf(req), req.body, auditContextOf(req))),
        ),
  );

  r.get(
    '/memberships/:id',
    { schema: { tags: ['memberships'], params: idParams, response: { 200: membershipDto } } },
    async (req) => toMembershipDto(await members.getMembership(principalOf(req), req.params.id)),
  );

  r.patch(
    '/memberships/:id',
    {
      schema: {
        tags: ['memberships'],
        summary: 'Change a member role',
        params: idParams,
        body: z.strictObject({ role: roleSchema }),
        response: { 200: membershipDto },
      },
    },
    async (req) =>
      toMembershipDto(
        await members.updateMembership(principalOf(req), req.params.id, req.body.role, auditContextOf(req)),
      ),
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
