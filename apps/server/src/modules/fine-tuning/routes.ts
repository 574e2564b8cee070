import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeyPrincipal } from '../../http/principal.ts';
import { hyperparametersInput } from './hyperparameters.ts';
import type { FineTuningService } from './service.ts';

const tags = ['openai'];
const security = [{ bearer: [] }];

const fileId = z.string().min(1).max(200);
const methodHp = z.object({ hyperparameters: hyperparametersInput.optional() }).optional();

const createBody = z.object({
  model: z.string().min(1).max(200),
  training_file: fileId,
  validation_file: fileId.nullable().optional(),
  suffix: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'letters, digits and - (at most 64)')
    .nullable()
    .optional(),
  seed: z.number().int().min(0).max(2_147_483_647).nullable().optional(),
  hyperparameters: hyperparametersInput.optional(),
  method: z
    .object({
      type: z.enum(['supervised', 'dpo']),
      supervised: methodHp,
      dpo: methodHp,
    })
    .optional(),
  integrations: z.array(z.unknown()).max(0, 'integrations are not supported').nullable().optional(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, 'at most 16 metadata pairs')
    .nullable()
    .optional(),
});

const estimateBody = createBody
  .pick({
    model: true,
    training_file: true,
    hyperparameters: true,
    method: true,
  })
  .strict();
const idParams = z.object({ id: z.string().max(200) });
const listQuery = z.strictObject({
  after: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export interface FineTuningRoutesOptions {
  fineTuning: FineTuningService;
  /** adds /v1's hooks (request id, loop refusal, API key) to this plugin's routes */
  authenticate: (app: FastifyInstance) => void;
}

/** OpenAI's /v1/fine_tuning/jobs; a key sees its own project's jobs only. */
export async function fineTuningRoutes(app: FastifyInstance, opts: FineTuningRoutesOptions) {
  const ft = opts.fineTuning;
  opts.authenticate(app);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const key = (req: { principal: unknown }) => req.principal as KeyPrincipal;
  const base = '/fine_tuning/jobs';

  r.post(
    base,
    { schema: { tags, security, summary: 'Create a fine-tuning job', body: createBody } },
    async (req) => ft.create(key(req), req.body),
  );
  r.get(
    base,
    {
      schema: {
        tags,
        security,
        summary: "The project's fine-tuning jobs, newest first",
        querystring: listQuery,
      },
    },
    async (req) => ft.list(key(req), req.query.after, req.query.limit),
  );
  r.get(
    `${base}/:id`,
    { schema: { tags, security, summary: 'One fine-tuning job', params: idParams } },
    async (req) => ft.get(key(req), req.params.id),
  );
  for (const action of ['cancel', 'pause', 'resume'] as const)
    r.post(
      `${base}/:id/${action}`,
      {
        schema: {
          tags,
          security,
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} a fine-tuning job`,
          params: idParams,
        },
      },
      async (req) => ft[action](key(req), req.params.id),
    );
  r.post(
    `${base}/:id/deploy`,
    {
      schema: {
        tags,
        security,
        summary: "maas: serve a job's adapter on its base deployment (again)",
        params: idParams,
      },
    },
    async (req) => ft.deploy(key(req), req.params.id),
  );
  r.post(
    '/fine_tuning/estimate',
    {
      schema: {
        tags,
        security,
        summary: 'maas: what a fine-tuning job would run and cost, without creating it',
        body: estimateBody,
      },
    },
    async (req) => ft.estimate(key(req), req.body),
  );
  r.get(
    `${base}/:id/events`,
    {
      schema: {
        tags,
        security,
        summary: "A job's events, newest first",
        params: idParams,
        querystring: listQuery,
      },
    },
    async (req) => ft.events(key(req), req.params.id, req.query.after, req.query.limit),
  );
  r.get(
    `${base}/:id/checkpoints`,
    { schema: { tags, security, summary: "A job's checkpoints", params: idParams, querystring: listQuery } },
    async (req) => ft.checkpoints(key(req), req.params.id, req.query.after, req.query.limit),
  );
}
