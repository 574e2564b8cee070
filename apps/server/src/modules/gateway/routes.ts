import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { Endpoint } from './adapters/types.ts';
import { messagesRoutes } from './anthropic/messages-routes.ts';
import { authenticateKey, type VerifyKey } from './authenticate-key.ts';
import type { GatewayContext } from './context.ts';
import { mediaRoutes } from './media/media-routes.ts';
import { listModels, retrieveModel } from './models-routes.ts';
import { proxyRequest } from './proxy-request.ts';
import { refuseLoops } from './refuse-loop.ts';
import { ownRequestId } from './request-id.ts';
import { type Responses, responsesRoutes } from './responses/index.ts';
import { bodySchemas } from './validate-body.ts';

const tags = ['openai'];
const security = [{ bearer: [] }];

const ENDPOINTS: { path: string; endpoint: Endpoint; summary: string }[] = [
  {
    path: '/chat/completions',
    endpoint: 'chat.completions',
    summary: 'Chat completion, streamed (SSE) or not',
  },
  { path: '/completions', endpoint: 'completions', summary: 'Text completion, streamed (SSE) or not' },
  { path: '/embeddings', endpoint: 'embeddings', summary: 'Embeddings, encoding_format float or base64' },
  { path: '/rerank', endpoint: 'rerank', summary: 'Rerank documents against a query' },
];

const modelObject = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number(),
  owned_by: z.string(),
});

/** Bodies are validated by the handler (so that rejected requests are metered too); the schema documents them. */
const documentOnly = () => (data: unknown) => ({ value: data });

export interface GatewayRouteDeps {
  gw: GatewayContext;
  verifyKey: VerifyKey;
  responses: Responses;
}

/** The OpenAI-compatible surface at /v1, authenticated by API key. */
export async function gatewayRoutes(app: FastifyInstance, { gw, verifyKey, responses }: GatewayRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  app.addHook('onRequest', ownRequestId);
  app.addHook('onRequest', refuseLoops);
  app.addHook('onRequest', authenticateKey(verifyKey));

  r.get(
    '/models',
    {
      schema: {
        tags,
        security,
        summary: 'Models this key may call',
        response: { 200: z.object({ object: z.literal('list'), data: z.array(modelObject) }) },
      },
    },
    async (req) => listModels(gw.models, req.principal as KeyPrincipal),
  );

  r.get(
    '/models/*',
    { schema: { tags, security, summary: 'One model, by name or alias', response: { 200: modelObject } } },
    async (req) =>
      retrieveModel(gw.models, req.principal as KeyPrincipal, (req.params as { '*': string })['*']),
  );

  for (const { path, endpoint, summary } of ENDPOINTS) {
    r.post(
      path,
      { schema: { tags, security, summary, body: bodySchemas[endpoint] }, validatorCompiler: documentOnly },
      (req: FastifyRequest, reply: FastifyReply) =>
        gw.beforeRequest
          ? gw.beforeRequest(req, reply, endpoint).then(() => proxyRequest(gw, req, reply, endpoint))
          : proxyRequest(gw, req, reply, endpoint),
    );
  }

  // the Anthropic Messages API, with its own error shape
  await app.register(messagesRoutes, { gw });
  // images and audio (multipart uploads on their own parser)
  await app.register(mediaRoutes, { gw });
  await app.register(responsesRoutes, { responses });
}
