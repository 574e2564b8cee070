import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listQuery, page, pageOf } from '../../../http/pagination.ts';
import { idParams } from '../../../http/params.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { projectDto, toProjectDto } from '../dto.ts';
import type { IdentityService } from '../service.ts';

const name = z.string().trim().min(1).max(200);
const description = z.string().max(2000);

export interface ProjectRouteDeps {
  identity: Pick<IdentityService, 'projects'>;
}

export async function projectRoutes(app: FastifyInstance, { identity }: ProjectRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { projects } = identity;
  const tags = ['projects'];

  r.get(
    '/projects',
    { schema: { tags, querystring: listQuery, response: { 200: pageOf(projectDto) } } },
    async (req) => {
      const result = page(
        await projects.list(principalOf(req), req.query.limit, req.query.cursor),
        req.query.limit,
      );
      return { data: result.data.map(toProjectDto), next_cursor: result.next_cursor };
    },
  );

  r.post(
    '/projects',
    {
      schema: {
        tags,
        body: z.strictObject({ name, description: description.optional() }),
        response: { 201: projectDto },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(toProjectDto(await projects.create(principalOf(req), req.body, auditContextOf(req)))),
  );

  r.get('/projects/:id', { schema: { tags, params: idParams, response: { 200: projectDto } } }, async (req) =>
    toProjectDto(await projects.get(principalOf(req), req.params.id)),
  );

  r.patch(
    '/projects/:id',
    {
      schema: {
        tags,
        params: idParams,
        body: z.strictObject({ name: name.optional(), description: description.nullable().optional() }),
        response: { 200: projectDto },
      },
    },
    async (req) =>
      toProjectDto(await projects.update(principalOf(req), req.params.id, req.body, auditContextOf(req))),
  );

  r.delete(
    '/projects/:id',
    {
      schema: {
        tags,
        summary: 'Delete the project and its keys',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await projects.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );
}
