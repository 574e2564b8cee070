import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { auditContextOf } from '../../http/request-context.ts';
import type { RegistryService } from './service.ts';
import { offerShareBody, shareDto, shareListQuery, toShareDto } from './share-dto.ts';

const tags = ['models'];

export interface ShareRouteDeps {
  registry: RegistryService;
}

/** Model shares: the owner offers and revokes, the receiving org accepts or declines. */
export async function shareRoutes(app: FastifyInstance, { registry }: ShareRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/models/:id/shares',
    {
      schema: {
        tags,
        summary: 'Offer a model to another org; it sees the model once one of its operators accepts',
        params: idParams,
        body: offerShareBody,
        response: { 201: shareDto },
      },
    },
    async (req, reply) => {
      const row = await registry.offerShare(principalOf(req), req.params.id, req.body, auditContextOf(req));
      return reply.code(201).send(toShareDto(row));
    },
  );

  r.get(
    '/model-shares',
    {
      schema: {
        tags,
        summary: 'Model shares offered to your org (incoming) and by it (outgoing)',
        querystring: shareListQuery,
        response: { 200: z.object({ data: z.array(shareDto), next_cursor: z.null() }) },
      },
    },
    async (req) => {
      const rows = await registry.listShares(principalOf(req), req.query.direction);
      return { data: rows.map(toShareDto), next_cursor: null };
    },
  );

  r.post(
    '/model-shares/:id/accept',
    {
      schema: {
        tags,
        summary: 'Accept a model offered to your org: it is callable as <owner-slug>/<name>',
        params: idParams,
        response: { 200: shareDto },
      },
    },
    async (req) =>
      toShareDto(await registry.acceptShare(principalOf(req), req.params.id, auditContextOf(req))),
  );

  r.post(
    '/model-shares/:id/decline',
    {
      schema: {
        tags,
        summary: 'Decline a model offered to your org, or give up one you accepted',
        params: idParams,
        response: { 200: shareDto },
      },
    },
    async (req) =>
      toShareDto(await registry.declineShare(principalOf(req), req.params.id, auditContextOf(req))),
  );

  r.delete(
    '/model-shares/:id',
    {
      schema: {
        tags,
        summary: 'Revoke a share of one of your models',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await registry.revokeShare(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );
}
