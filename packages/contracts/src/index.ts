import { z } from 'zod';

/** Shapes shared by the server, the CLI and the console. */

export const ROLES = ['owner', 'admin', 'operator', 'viewer'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export const KEY_SCOPES = ['inference', 'admin:read', 'admin:write'] as const;
export const keyScopeSchema = z.enum(KEY_SCOPES);
export type KeyScope = z.infer<typeof keyScopeSchema>;

/** The admin API's one error envelope. */
export const adminErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type AdminError = z.infer<typeof adminErrorSchema>;

/** OpenAI's error body, used on `/v1`. */
export const openAiErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

export const tokenPairSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  org_id: z.string(),
});
export type TokenPair = z.infer<typeof tokenPairSchema>;

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

/** One row of `GET /api/v1/usage`: a time bucket, the chosen dimensions, and its figures. */
export interface UsageRow {
  bucket_start: string;
  org_id?: string;
  project_id?: string;
  key_id?: string;
  /** the user who created the key (empty when a key created it) */
  user_id?: string;
  model?: string;
  currency: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
  /** media units: images made, seconds of audio transcribed or translated, characters spoken */
  images: number;
  audio_seconds: number;
  characters: number;
  cost: number;
  latency_avg_ms: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
}

export type {
  ApiBody,
  ApiItem,
  ApiListPath,
  ApiMethod,
  ApiPath,
  ApiPathParam,
  ApiResponse,
  components,
  paths,
} from './api/index.ts';
