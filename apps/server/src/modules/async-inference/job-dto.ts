import { z } from 'zod';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { JobRow } from '../jobs/index.ts';

export const ASYNC_QUEUE = 'async.inference';
export const CALLBACK_QUEUE = 'async.callback';

export type AsyncEndpoint = 'chat.completions' | 'embeddings' | 'images.generations' | 'audio.speech';
export const ENDPOINT_PATH: Record<AsyncEndpoint, string> = {
  'chat.completions': '/v1/chat/completions',
  embeddings: '/v1/embeddings',
  'images.generations': '/v1/images/generations',
  'audio.speech': '/v1/audio/speech',
};

/** What an async request's job carries: the key it runs as, the OpenAI body, where to call back. */
export interface AsyncPayload {
  principal: KeyPrincipal;
  endpoint: AsyncEndpoint;
  body: Record<string, unknown>;
  callbackUrl: string | null;
}

/** Stored as the job's progress once the gateway answered: a rerun after a crash reuses it. */
export interface AsyncProgress {
  request_id: string;
  status_code: number;
  body: unknown;
}

export interface AsyncJobDto {
  id: string;
  object: 'async.job';
  endpoint: string;
  model: string | null;
  status: JobRow['status'];
  created_at: number;
  completed_at: number | null;
  attempts: number;
  request_id: string | null;
  /** the OpenAI response body, once succeeded */
  result: unknown;
  error: { message: string; code: string | null; status_code: number | null } | null;
  callback_url: string | null;
}

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled'] as const;

/** The wire schema of an AsyncJobDto (it also drops any field it does not name). */
export const asyncJobSchema = z.object({
  id: z.string(),
  object: z.literal('async.job'),
  endpoint: z.string(),
  model: z.string().nullable(),
  status: z.enum(JOB_STATUSES),
  created_at: z.number().int().describe('unix seconds'),
  completed_at: z.number().int().nullable(),
  attempts: z.number().int(),
  request_id: z.string().nullable(),
  result: z.unknown().describe('the OpenAI response body, once succeeded'),
  error: z
    .object({ message: z.string(), code: z.string().nullable(), status_code: z.number().int().nullable() })
    .nullable(),
  callback_url: z.string().nullable(),
});

const unix = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null);

export function toAsyncJobDto(row: JobRow): AsyncJobDto {
  const payload = row.payload as AsyncPayload;
  const progress = (row.progress ?? null) as AsyncProgress | null;
  const upstream = (progress?.body as { error?: { code?: unknown } } | null)?.error;
  return {
    id: row.id,
    object: 'async.job',
    endpoint: ENDPOINT_PATH[payload.endpoint] ?? payload.endpoint,
    model: typeof payload.body?.model === 'string' ? payload.body.model : null,
    status: row.status,
    created_at: unix(row.createdAt)!,
    completed_at: unix(row.finishedAt),
    attempts: row.attempts,
    request_id: progress?.request_id ?? null,
    result: row.status === 'succeeded' ? row.result : null,
    error:
      row.status === 'failed' || (row.status === 'queued' && row.error)
        ? {
            message: row.error ?? 'the job failed',
            code: typeof upstream?.code === 'string' ? upstream.code : null,
            status_code: progress && progress.status_code >= 400 ? progress.status_code : null,
          }
        : null,
    callback_url: payload.callbackUrl,
  };
}
