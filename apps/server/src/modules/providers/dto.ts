import { z } from 'zod';
import { PROVIDER_TYPES, type providers } from './schema.ts';

const name = z.string().trim().min(1).max(200);
const baseUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe('the upstream base URL, e.g. http://gpu-1:8000/v1 (vLLM) or https://api.anthropic.com');
/** headers the connection itself owns */
const RESERVED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'not a valid header name')
  .refine((n) => !RESERVED.has(n.toLowerCase()), 'this header is set by the connection');
/** what an HTTP header value may hold: no control characters */
const headerSafe = (v: string) => {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 || c === 127) return false;
  }
  return true;
};
const headers = z
  .record(headerName, z.string().max(4000).refine(headerSafe, 'control characters are not allowed'))
  .refine((h) => Object.keys(h).length <= 50, 'at most 50 headers')
  .describe('extra request headers; stored encrypted, only their names are returned');
const apiKey = z
  .string()
  .min(1)
  .max(8192)
  .refine(headerSafe, 'control characters are not allowed')
  .describe('stored encrypted, never returned');
const timeoutMs = z.number().int().min(100).max(600_000).describe('per-attempt upstream timeout');
const maxConnections = z.number().int().min(1).max(256).describe('size of the connection pool');

export const createProviderBody = z.strictObject({
  name,
  type: z.enum(PROVIDER_TYPES),
  base_url: baseUrl,
  api_key: apiKey.optional(),
  headers: headers.optional(),
  timeout_ms: timeoutMs.optional(),
  max_connections: maxConnections.optional(),
});

export const updateProviderBody = z.strictObject({
  name: name.optional(),
  type: z.enum(PROVIDER_TYPES).optional(),
  base_url: baseUrl.optional(),
  api_key: apiKey.nullable().optional().describe('null removes the stored key'),
  headers: headers.nullable().optional(),
  timeout_ms: timeoutMs.optional(),
  max_connections: maxConnections.optional(),
});

export type CreateProviderBody = z.infer<typeof createProviderBody>;
export type UpdateProviderBody = z.infer<typeof updateProviderBody>;

export const probeResultDto = z.object({
  ok: z.boolean(),
  at: z.string(),
  latency_ms: z.number(),
  status_code: z.number().nullable(),
  error: z.string().nullable(),
});

export const targetStateDto = z.object({
  upstream_model: z.string(),
  state: z.enum(['closed', 'open', 'half_open']),
  consecutive_failures: z.number(),
  error_rate: z.number(),
  outstanding: z.number(),
  opened_at: z.string().nullable(),
});

export const healthDto = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']),
  last_probe: probeResultDto.nullable(),
  error_rate: z.number().describe('share of failed upstream calls in the window'),
  requests: z.number().describe('upstream calls in the window'),
  window_s: z.number(),
  targets: z.array(targetStateDto).describe('circuit breaker of each (provider, upstream model) target'),
});

export const providerDto = z.object({
  id: z.string(),
  org_id: z.string(),
  name: z.string(),
  type: z.enum(PROVIDER_TYPES),
  base_url: z.string(),
  has_api_key: z.boolean(),
  header_names: z.array(z.string()),
  timeout_ms: z.number(),
  max_connections: z.number(),
  managed_by: z
    .enum(['fleet'])
    .nullable()
    .describe('`fleet`: the provider of a deployment, changed only by the fleet'),
  endpoints: z
    .array(z.object({ id: z.string(), url: z.string(), group: z.string() }))
    .optional()
    .describe("a fleet deployment's running replicas (id, address, version); credentials are never shown"),
  created_at: z.string(),
  updated_at: z.string(),
  health: healthDto.optional(),
});

export const connectionTestDto = probeResultDto.extend({
  models: z.array(z.string()).optional().describe('model ids the upstream lists, when it lists any'),
});

export type ProviderRow = typeof providers.$inferSelect;
export type ProviderDto = z.infer<typeof providerDto>;
export type HealthDto = z.infer<typeof healthDto>;

export function toProviderDto(row: ProviderRow, headerNames: string[]): ProviderDto {
  return {
    id: row.id,
    org_id: row.orgId,
    name: row.name,
    type: row.type,
    base_url: row.baseUrl,
    has_api_key: row.apiKeyEnc !== null,
    header_names: headerNames,
    timeout_ms: row.timeoutMs,
    max_connections: row.maxConnections,
    managed_by: row.managedBy ?? null,
    ...(row.endpoints
      ? { endpoints: row.endpoints.map((e) => ({ id: e.id, url: e.url, group: e.group })) }
      : {}),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
