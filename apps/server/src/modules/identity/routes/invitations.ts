import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';
import { listQuery, page, pageOf } from '../../../http/pagination.ts';
import { idParams } from '../../../http/params.ts';
import { builtInPermissions } from '../../../http/permissions.ts';
import { type Principal, principalOf, type UserPrincipal } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { assertMayGrant, orgPermissionsOf } from '../access/role-service.ts';
import { emailSchema, invitationDto, roleSchema, toInvitationDto } from '../dto.ts';
import type { IdentityService } from '../service.ts';

function userOf(p: Principal): UserPrincipal {
  if (p.kind !== 'user') throw new AppError('forbidden', 'API keys receive no invitations');
  return p;
}

export interface InvitationRouteDeps {
  identity: Pick<IdentityService, 'invitations'>;
}

export async function invitationRoutes(app: FastifyInstance, { identity }: InvitationRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { invitations } = identity;
  const tags = ['invitations'];

  r.post(
    '/invitations',
    {
      schema: {
        tags,
        summary: 'Invite someone to your org by email',
        description:
          'Always a pending invitation, whether or not the email has an account: the org learns ' +
          'nothing of the account until its owner accepts.',
        body: z.strictObject({ email: emailSchema, role: roleSchema.default('viewer') }),
        response: { 201: invitationDto },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      // an invitation hands out its role: never one beyond the inviter's own permissions
      assertMayGrant(orgPermissionsOf(p), builtInPermissions(req.body.role));
      return reply
        .code(201)
        .send(toInvitationDto(await invitations.create(p, req.body, auditContextOf(req))));
    },
  );

  r.get(
    '/invitations',
    {
      schema: {
        tags,
        summary: 'Pending invitations of your org',
        querystring: listQuery,
        response: { 200: pageOf(invitationDto) },
      },
    },
    async (req) => {
      const rows = await invitations.listForOrg(principalOf(req), req.query.limit, req.query.cursor);
      const result = page(rows, req.query.limit);
      return { data: result.data.map((i) => toInvitationDto(i)), next_cursor: result.next_cursor };
    },
  );

  r.delete(
    '/invitations/:id',
    {
      schema: {
        tags,
        summary: 'Withdraw a pending invitation',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await invitations.revoke(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/invitations/:id/resend',
    {
      schema: {
        tags,
        summary: 'Mail a pending invitation again: a new link and expiry (the previous link stops working)',
        params: idParams,
        body: z.strictObject({}).optional(),
        response: { 200: invitationDto },
      },
    },
    async (req) =>
      toInvitationDto(await invitations.resend(principalOf(req), req.params.id, auditContextOf(req))),
  );

  r.get(
    '/me/invitations',
    {
      schema: {
        tags,
        summary: 'Pending invitations addressed to your email',
        response: { 200: z.object({ data: z.array(invitationDto) }) },
      },
    },
    async (req) => ({
      data: (await invitations.listMine(userOf(principalOf(req)))).map((row) =>
        toInvitationDto(row.invitation, row.orgName),
      ),
    }),
  );

  for (const action of ['accept', 'decline'] as const) {
    r.post(
      `/me/invitations/:id/${action}`,
      {
        schema: {
          tags,
          summary:
            action === 'accept'
              ? 'Accept an invitation: you become a member of the org'
              : 'Decline an invitation',
          params: idParams,
          body: z.strictObject({}).optional(),
          response: { 200: invitationDto },
        },
      },
      async (req) => {
        const p = userOf(principalOf(req));
        const row = await invitations[action](p, req.params.id, auditContextOf(req));
        return toInvitationDto(row);
      },
    );
  }
}
