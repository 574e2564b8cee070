import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeyPrincipal } from '../../http/principal.ts';
import { type AsyncEndpoint, asyncJobSchema, JOB_STATUSES } from './job-dto.ts';
import { asyncJobListSchema } from './list-jobs.ts';
import type { AsyncInference } from './service.ts';

const tags = ['async'];
const security = [{ bearer: [] }];
const idParams = z.object({ id: z.string().max(200) });
const listQuery = z.strictObject({
  after: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  status: z.enum(JOB_STATUSES).optional(),
});
/** The OpenAI body (checked when the job runs, by the gateway) plus an optional callback_url. */
const requestBody = z.looseObject({
  model: z.string().max(256),
  callback_url: z.string().max(2048).nullish(),
});

export interface AsyncRoutesOptions {
  asyncInference: AsyncInference;
  /** the /v1 hooks: request id, loop refusal, an API key with the inference scope */
  authenticate: (app: FastifyInstance) => void;
}

/**
 * /api/v1/async: OpenAI requests answered later. POST answers 202 with the job at once; GET polls
 * it (the OpenAI answer is its `result`), GET /jobs lists the project's jobs; DELETE cancels one. Authenticated like /v1, by API key.
 */
export async function asyncRoutes(app: FastifyInstance, opts: AsyncRoutesOptions) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  opts.authenticate(app);
  const service = opts.asyncInference;
  const key = (req: { principal: unknown }) => req.principal as KeyPrincipal;

  const submit = (path: string, endpoint: AsyncEndpoint, summary: string) =>
    r.post(
      path,
      { schema: { tags, security, summary, body: requestBody, response: { 202: asyncJobSchema } } },
      async (req, reply) => {
        const job = await service.submit(key(req), endpoint, req.body as Record<string, unknown>);
        return reply.code(202).header('location', `${app.prefix}/jobs/${job.id}`).send(job);
      },
    );
  submit('/chat/completions', 'chat.completions', 'Queue a chat completion; poll the job or get a callback');
  submit('/embeddings', 'embeddings', 'Queue an embeddings request; poll the job or get a callback');
  submit('/images/generations', 'images.generations', 'Queue an image generation; the images are the result');
  submit(
    '/audio/speech',
    'audio.speech',
    'Queue speech; the audio is kept as a file of /v1/files, the result names it',
  );

  r.get(
    '/jobs',
    {
      schema: {
        tags,
        security,
        summary: "The key's project's async jobs, newest first",
        querystring: listQuery,
        response: { 200: asyncJobListSchema },
      },
    },
    async (req) => service.list(key(req), req.query),
  );
  r.get(
    '/jobs/:id',
    {
      schema: {
        tags,
        security,
        summary: 'An async job',
        params: idParams,
        response: { 200: asyncJobSchema },
      },
    },
    async (req) => service.get(key(req), req.params.id),
  );
  r.delete(
    '/jobs/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Cancel an async job',
        params: idParams,
        response: { 200: asyncJobSchema },
      },
    },
    async (req) => service.cancel(key(req), req.params.id),
  );
}
