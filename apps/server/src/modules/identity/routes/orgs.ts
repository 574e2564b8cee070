import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listQuery, page, pageOf } from '../../../http/pagination.ts';
import { idParams } from '../../../http/params.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { orgDto, toOrgDto } from '../dto.ts';
import type { IdentityService } from '../service.ts';

const name = z.string().trim().min(1).max(200);

export interface OrgRouteDeps {
  identity: Pick<IdentityService, 'orgs'>;
}

export async function orgRoutes(app: FastifyInstance, { identity }: OrgRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs } = identity;
  const tags = ['orgs'];

  r.get(
    '/orgs',
    {
      schema: {
        tags,
        summary: 'Orgs you belong to',
        querystring: listQuery,
        response: { 200: pageOf(orgDto) },
      },
    },
    async (req) => {
      const result = page(
        await orgs.list(principalOf(req), req.query.limit, req.query.cursor),
        req.query.limit,
      );
      return { data: result.data.map(toOrgDto), next_cursor: result.next_cursor };
    },
  );

  r.post(
    '/orgs',
    {
      schema: {
        tags,
        summary: 'Create an org (platform admins); you become its owner',
        body: z.strictObject({
          name,
          slug: z
            .string()
            .regex(/^[a-z0-9][a-z0-9-]{0,47}$/)
            .optional(),
        }),
        response: { 201: orgDto },
      },
    },
    async (req, reply) =>
      reply.code(201).send(toOrgDto(await orgs.create(principalOf(req), req.body, auditContextOf(req)))),
  );

  r.get('/orgs/:id', { schema: { tags, params: idParams, response: { 200: orgDto } } }, async (req) =>
    toOrgDto(await orgs.get(principalOf(req), req.params.id)),
  );

  r.patch(
    '/orgs/:id',
    {
      schema: {
        tags,
        params: idParams,
        description:
          'Owners and admins. `sso_required`: members sign in only through an identity provider ' +
          '(password sign-in refused; platform admins keep theirs). `mfa_required_for_admins`: owners ' +
          'and admins without a second factor can only enrol one at their next sign-in.',
        body: z.strictObject({
          name: name.optional(),
          sso_required: z.boolean().optional(),
          mfa_required_for_admins: z.boolean().optional(),
        }),
        response: { 200: orgDto },
      },
    },
    async (req) =>
      toOrgDto(await orgs.update(principalOf(req), req.params.id, req.body, auditContextOf(req))),
  );

  r.delete(
    '/orgs/:id',
    {
      schema: {
        tags,
        summary: 'Delete the org and everything in it (owners only)',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await orgs.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );
}
