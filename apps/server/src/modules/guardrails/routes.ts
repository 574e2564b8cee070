import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listQuery, page, pageOf } from '../../http/pagination.ts';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { auditContextOf } from '../../http/request-context.ts';
import {
  attachBody,
  attachmentParams,
  createGuardrailBody,
  guardrailDto,
  updateGuardrailBody,
} from './dto.ts';
import type { GuardrailService } from './service.ts';

const tags = ['guardrails'];

/** /api/v1/guardrails: an org's guardrail pipeline and what it is attached to. */
export async function guardrailRoutes(
  app: FastifyInstance,
  { guardrails }: { guardrails: GuardrailService },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/guardrails',
    {
      schema: {
        tags,
        summary: "Your org's guardrails",
        querystring: listQuery,
        response: { 200: pageOf(guardrailDto) },
      },
    },
    async (req) => {
      const q = req.query;
      const result = page(await guardrails.list(principalOf(req), q.limit, q.cursor), q.limit);
      return { data: result.data.map((r) => r.dto), next_cursor: result.next_cursor };
    },
  );

  r.post(
    '/guardrails',
    {
      schema: {
        tags,
        summary:
          'Add a guardrail: PII detection, a deny list (regular expressions checked for catastrophic backtracking) or a moderation model',
        body: createGuardrailBody,
        response: { 201: guardrailDto },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await guardrails.create(principalOf(req), req.body, auditContextOf(req))),
  );

  r.get(
    '/guardrails/:id',
    { schema: { tags, summary: 'One guardrail', params: idParams, response: { 200: guardrailDto } } },
    async (req) => guardrails.get(principalOf(req), req.params.id),
  );

  r.patch(
    '/guardrails/:id',
    {
      schema: {
        tags,
        summary: 'Change a guardrail',
        params: idParams,
        body: updateGuardrailBody,
        response: { 200: guardrailDto },
      },
    },
    async (req) => guardrails.update(principalOf(req), req.params.id, req.body, auditContextOf(req)),
  );

  r.delete(
    '/guardrails/:id',
    { schema: { tags, summary: 'Delete a guardrail', params: idParams, response: { 204: z.null() } } },
    async (req, reply) => {
      await guardrails.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/guardrails/:id/attachments',
    {
      schema: {
        tags,
        summary: 'Apply the guardrail to every call of one of your models or API keys',
        params: idParams,
        body: attachBody,
        response: { 200: guardrailDto },
      },
    },
    async (req) => guardrails.attach(principalOf(req), req.params.id, req.body, auditContextOf(req)),
  );

  r.delete(
    '/guardrails/:id/attachments/:target_id',
    {
      schema: {
        tags,
        summary: 'Stop applying the guardrail to a model or key',
        params: attachmentParams,
        response: { 200: guardrailDto },
      },
    },
    async (req) =>
      guardrails.detach(principalOf(req), req.params.id, req.params.target_id, auditContextOf(req)),
  );
}
