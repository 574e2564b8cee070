import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { BatchService } from './service.ts';

const tags = ['openai'];
const security = [{ bearer: [] }];

const metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'at most 16 metadata pairs')
  .nullable()
  .optional();

const createBody = z.object({
  input_file_id: z.string().min(1).max(200),
  endpoint: z.string().max(200),
  completion_window: z.string().max(20),
  metadata,
  output_expires_after: z
    .object({
      anchor: z.literal('created_at'),
      seconds: z
        .number()
        .int()
        .min(3600)
        .max(30 * 86_400),
    })
    .optional(),
});

const idParams = z.object({ id: z.string().max(200) });
const listQuery = z.strictObject({
  after: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export interface BatchRoutesOptions {
  batches: BatchService;
  /** adds /v1's hooks (request id, loop refusal, API key) to this plugin's routes */
  authenticate: (app: FastifyInstance) => void;
}

/** OpenAI's /v1/batches: create, list, retrieve, cancel; a key sees its own project's batches. */
export async function batchRoutes(app: FastifyInstance, opts: BatchRoutesOptions) {
  const { batches } = opts;
  opts.authenticate(app);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const key = (req: { principal: unknown }) => req.principal as KeyPrincipal;

  r.post(
    '/batches',
    { schema: { tags, security, summary: 'Create a batch from an uploaded JSONL file', body: createBody } },
    async (req) => batches.create(key(req), req.body),
  );
  r.get(
    '/batches',
    { schema: { tags, security, summary: "The project's batches, newest first", querystring: listQuery } },
    async (req) => batches.list(key(req), req.query.after, req.query.limit),
  );
  r.get('/batches/:id', { schema: { tags, security, summary: 'One batch', params: idParams } }, async (req) =>
    batches.get(key(req), req.params.id),
  );
  r.post(
    '/batches/:id/cancel',
    { schema: { tags, security, summary: 'Cancel a batch', params: idParams } },
    async (req) => batches.cancel(key(req), req.params.id),
  );
}
