import { z } from 'zod';
import { AppError } from '../../http/app-error.ts';
import type { Endpoint } from './adapters/types.ts';
import { mediaBodySchemas } from './media/media-body.ts';

/**
 * Light validation of /v1 bodies: the fields we act on, typed; everything else passes through
 * untouched (OpenAI adds fields often). The parsed copy is only used to validate; the client's own
 * object is what gets forwarded.
 */
const model = z.string().min(1).max(256);
const streamFields = {
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
};
const tokenIds = z.array(z.number().int());

export const chatBody = z.looseObject({
  model,
  messages: z.array(z.looseObject({ role: z.string().min(1) })).min(1),
  n: z.number().int().min(1).max(128).nullish(),
  ...streamFields,
});

export const completionBody = z.looseObject({
  model,
  prompt: z.union([z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)]),
  ...streamFields,
});

export const embeddingBody = z.looseObject({
  model,
  input: z.union([z.string(), z.array(z.string()).min(1), tokenIds.min(1), z.array(tokenIds).min(1)]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
});

export const rerankBody = z.looseObject({
  model,
  query: z.string(),
  documents: z.array(z.union([z.string(), z.looseObject({})])).min(1),
  top_n: z.number().int().min(1).nullish(),
  return_documents: z.boolean().nullish(),
});

export const bodySchemas: Record<Endpoint, z.ZodType> = {
  'chat.completions': chatBody,
  completions: completionBody,
  embeddings: embeddingBody,
  rerank: rerankBody,
  ...mediaBodySchemas,
};

/** The body as a plain object, or a 400 in OpenAI's shape naming the first bad field. */
export function validateBody(endpoint: Endpoint, body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('validation_failed', 'The request body must be a JSON object.');
  }
  const result = bodySchemas[endpoint].safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const param = issue.path.join('.') || null;
    throw new AppError(
      'validation_failed',
      param ? `Invalid '${param}': ${issue.message}.` : issue.message,
      undefined,
      { param },
    );
  }
  return body as Record<string, unknown>;
}
