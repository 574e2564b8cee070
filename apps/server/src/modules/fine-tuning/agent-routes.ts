import type { Readable } from 'node:stream';
import { artifactQuery, trainingPoll } from '@maas/contracts/agent';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../http/app-error.ts';
import { bearerToken } from '../../http/authenticate.ts';
import type { Dispatch } from './dispatch.ts';

export interface TrainingAgentRoutesOptions {
  dispatch: Dispatch;
  /** the node a credential belongs to (the fleet's agent service); throws 401 otherwise */
  authenticate: (token: string | null) => Promise<{ id: string }>;
}

/**
 * The training channel for `maas agent` under /api/v1/agent/training (hidden from the OpenAPI
 * document, like the rest of the agent protocol): the node credential, never an API key.
 */
export async function trainingAgentRoutes(app: FastifyInstance, opts: TrainingAgentRoutesOptions) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const hidden = { hide: true, tags: ['agent'] };
  r.post(
    '/agent/training/poll',
    { config: { public: true }, bodyLimit: 16 * 1024 * 1024, schema: { ...hidden, body: trainingPoll } },
    async (req) => {
      const node = await opts.authenticate(bearerToken(req));
      return opts.dispatch.poll(node.id, req.body);
    },
  );
  r.get(
    '/agent/training/runs/:id/data',
    { config: { public: true }, schema: { ...hidden, params: z.object({ id: z.string().max(100) }) } },
    async (req) => {
      const node = await opts.authenticate(bearerToken(req));
      return opts.dispatch.data(node.id, req.params.id);
    },
  );
  // a checkpoint or the adapter, streamed into the file store (whose size limit and quota apply)
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  r.put(
    '/agent/training/runs/:id/artifacts',
    {
      config: { public: true },
      schema: { ...hidden, params: z.object({ id: z.string().max(100) }), querystring: artifactQuery },
    },
    async (req) => {
      const node = await opts.authenticate(bearerToken(req));
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function')
        throw new AppError('validation_failed', 'the body must be application/octet-stream');
      const length = Number(req.headers['content-length']);
      return opts.dispatch.upload(
        node.id,
        req.params.id,
        req.query,
        body,
        Number.isFinite(length) ? length : undefined,
      );
    },
  );
}
