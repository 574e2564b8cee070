import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';
import type { KeyPrincipal } from '../../../http/principal.ts';
import { proxyRequest } from '../proxy-request.ts';
import { withFileSearch } from './file-search.ts';
import { listInputItems } from './list-input-items.ts';
import type { PreparedResponse } from './prepare-request.ts';
import { type ResponseRecord, toResponseObject } from './response-object.ts';
import { createResponseBody } from './responses-body.ts';
import { responsesReply } from './responses-reply.ts';
import type { Responses } from './service.ts';

const tags = ['openai'];
const security = [{ bearer: [] }];

/** Bodies are validated by the handler (so that rejected requests are metered too); the schema documents them. */
const documentOnly = () => (data: unknown) => ({ value: data });

const idParams = z.object({ id: z.string().min(1).max(128) });
const listQuery = z.object({
  after: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
});

const notFound = (id: string) =>
  new AppError('not_found', `Response with id '${id}' not found.`, undefined, { param: 'response_id' });

/**
 * The Responses API on /v1: create (JSON, SSE stream or background), retrieve, delete, cancel and
 * input items. A create runs as a chat completion through the gateway's own path (admit → route →
 * relay → one usage event, labelled `responses`). Registered inside the gateway's plugin, so the
 * API key hooks and OpenAI's error shape apply.
 */
export async function responsesRoutes(app: FastifyInstance, { responses }: { responses: Responses }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const own = async (req: FastifyRequest, id: string): Promise<ResponseRecord> => {
    const found = await responses.store.find(req.principal as KeyPrincipal, id);
    if (!found) throw notFound(id);
    return found;
  };

  r.post(
    '/responses',
    {
      schema: {
        tags,
        security,
        summary: 'Create a model response (Responses API)',
        body: createResponseBody,
      },
      validatorCompiler: documentOnly,
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const key = req.principal as KeyPrincipal;
      let prepared: PreparedResponse | null = null;
      let refusal: unknown = null;
      try {
        prepared = await responses.prepare(key, req.body);
      } catch (err) {
        refusal = err;
      }
      if (prepared?.body.background) {
        const queued = await responses.background.submit(
          prepared.record,
          prepared.chat,
          key,
          prepared.fileSearch,
        );
        return reply.code(200).send(toResponseObject(queued));
      }
      // refused inside the gateway's path, so that a refused body is metered like any other
      const translate = () => {
        if (refusal) throw refusal;
        return prepared!.chat;
      };
      const answer = responsesReply(reply, {
        initial: () => toResponseObject(prepared!.record),
        complete: (outcome) =>
          responses.complete(prepared!.record, withFileSearch(outcome, prepared!.fileSearch)),
        leading: prepared?.fileSearch?.leading,
        onError: (err) => req.log.error({ err }, 'response not stored'),
      });
      await proxyRequest(responses.gw, req, answer, 'chat.completions', { translate });
      return reply;
    },
  );

  r.get(
    '/responses/:id',
    { schema: { tags, security, summary: 'Retrieve a stored response', params: idParams } },
    async (req) => {
      if ((req.query as { stream?: unknown } | null)?.stream === 'true')
        throw new AppError('validation_failed', 'Streaming a stored response is not supported.', undefined, {
          param: 'stream',
        });
      return toResponseObject(await own(req, req.params.id));
    },
  );

  r.delete(
    '/responses/:id',
    { schema: { tags, security, summary: 'Delete a stored response', params: idParams } },
    async (req) => {
      const found = await own(req, req.params.id);
      if (found.status === 'queued' || found.status === 'in_progress')
        await responses.background.cancel(found);
      if (!(await responses.store.remove(req.principal as KeyPrincipal, found.id))) throw notFound(found.id);
      return { id: found.id, object: 'response', deleted: true };
    },
  );

  r.post(
    '/responses/:id/cancel',
    { schema: { tags, security, summary: 'Cancel a background response', params: idParams } },
    async (req) => {
      const found = await own(req, req.params.id);
      if (!found.background)
        throw new AppError(
          'validation_failed',
          'Only responses created with background=true can be cancelled.',
          undefined,
          { param: 'response_id' },
        );
      return toResponseObject(await responses.background.cancel(found));
    },
  );

  r.get(
    '/responses/:id/input_items',
    {
      schema: {
        tags,
        security,
        summary: 'The input items of a stored response',
        params: idParams,
        querystring: listQuery,
      },
    },
    async (req) => listInputItems(await own(req, req.params.id), req.query),
  );
}
