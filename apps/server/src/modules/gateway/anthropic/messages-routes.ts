import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';
import type { KeyPrincipal } from '../../../http/principal.ts';
import { NATIVE_MESSAGES } from '../adapters/anthropic/native.ts';
import type { GatewayContext } from '../context.ts';
import { proxyRequest } from '../proxy-request.ts';
import { findUsableModel, modelNotFound } from '../resolve-model.ts';
import { invalidRequest, sendAnthropicError } from './anthropic-error.ts';
import { servedOnlyByAnthropic } from './anthropic-only.ts';
import { countTokensBody, messagesBody, parseBody } from './messages-body.ts';
import { messagesReply } from './messages-reply.ts';
import { toChatBody, toChatPrompt } from './to-chat.ts';

const tags = ['anthropic'];
const security = [{ bearer: [] }];

/** Bodies are validated by the handler (Anthropic's error shape); the schema documents them. */
const documentOnly = () => (data: unknown) => ({ value: data });

/**
 * The Anthropic Messages API on /v1 (`/v1/messages`, `/v1/messages/count_tokens`), onto any
 * model: the request is translated to a chat completion and runs the gateway's own path (admit →
 * route → relay → one usage event); the answer, or the stream, is translated back. Errors are in
 * Anthropic's shape. Registered inside the gateway's plugin, so the API key hooks apply
 * (`x-api-key` or `Authorization: Bearer`).
 */
export async function messagesRoutes(app: FastifyInstance, { gw }: { gw: GatewayContext }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  app.setErrorHandler((err: Error, req, reply) => {
    if (err instanceof AppError) req.log.warn({ code: err.code, msg: err.message }, 'request rejected');
    else if (((err as { statusCode?: number }).statusCode ?? 500) >= 500)
      req.log.error({ err }, 'request failed');
    return sendAnthropicError(reply, err);
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('request-id', req.id);
    if (!req.headers['anthropic-version'])
      throw invalidRequest('anthropic-version: header is required', 'anthropic-version');
  });

  r.post(
    '/messages',
    {
      schema: {
        tags,
        security,
        summary: 'Anthropic Messages API, streamed (SSE) or not',
        body: messagesBody,
      },
      validatorCompiler: documentOnly,
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const key = req.principal as KeyPrincipal;
      let stopSequences: string[] | undefined;
      // translated inside the gateway's path, so that a refused body is metered like any other
      const translate = (raw: unknown) => {
        const body = parseBody(messagesBody, raw);
        stopSequences = body.stop_sequences;
        const chat: Record<string | symbol, unknown> = toChatBody(body, {
          dropAnthropicOnly: servedOnlyByAnthropic(gw, findUsableModel(gw.models, key, body.model)),
        });
        // what an Anthropic upstream is sent as is (see adapters/anthropic/native.ts)
        chat[NATIVE_MESSAGES] = raw;
        return chat;
      };
      const model = (req.body as { model?: unknown } | null)?.model;
      const answer = messagesReply(reply, typeof model === 'string' ? model : '', () => stopSequences);
      await proxyRequest(gw, req, answer, 'chat.completions', { translate });
      return reply;
    },
  );

  r.post(
    '/messages/count_tokens',
    {
      schema: {
        tags,
        security,
        summary: 'Tokens a Messages request would take as input (estimated with the gateway’s tokenizer)',
        body: countTokensBody,
        response: { 200: z.object({ input_tokens: z.number() }) },
      },
      validatorCompiler: documentOnly,
    },
    async (req: FastifyRequest) => {
      const body = parseBody(countTokensBody, req.body);
      if (!findUsableModel(gw.models, req.principal as KeyPrincipal, body.model))
        throw modelNotFound(body.model);
      const input_tokens = await gw.tokens.count(
        gw.tokens.promptText('chat.completions', toChatPrompt(body)),
      );
      return { input_tokens };
    },
  );
}
