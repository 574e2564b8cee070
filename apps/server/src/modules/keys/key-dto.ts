import { z } from 'zod';
import { type apiKeys, KEY_SCOPES } from './schema.ts';

/** The longest rotation grace period: seven days. */
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

const name = z.string().trim().min(1).max(200);
const models = z
  .array(z.string().min(1).max(200))
  .max(200)
  .nullable()
  .describe('model names this key may call; null or absent: every model the project may use');
const metadata = z
  .record(z.string().max(100), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 8192, 'metadata must be at most 8 KiB of JSON')
  .describe('free-form labels, at most 8 KiB of JSON');
const expiresAt = z.iso
  .datetime({ offset: true })
  .nullable()
  .describe('ISO 8601 time after which the key is refused; null: never');

export const createKeyBody = z.strictObject({
  name,
  project_id: z.string().min(1).max(200),
  scopes: z
    .array(z.enum(KEY_SCOPES))
    .min(1)
    .max(KEY_SCOPES.length)
    .default(['inference'])
    .describe('inference (the /v1 gateway), admin:read, admin:write (the /api/v1 admin API)'),
  models: models.optional(),
  expires_at: expiresAt.optional(),
  metadata: metadata.optional(),
});

export const updateKeyBody = z.strictObject({
  name: name.optional(),
  models: models.optional(),
  expires_at: expiresAt.optional(),
  metadata: metadata.optional(),
});

export const rotateKeyBody = z
  .strictObject({
    grace_period_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_SECONDS)
      .default(0)
      .describe('how long the previous secret keeps working, in seconds (at most 7 days)'),
  })
  .optional();

export const keyParams = z.strictObject({ id: z.string().min(1).max(200) });

export const listKeysQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  project_id: z.string().max(200).optional(),
});

export const apiKeyDto = z.object({
  id: z.string(),
  org_id: z.string(),
  project_id: z.string(),
  name: z.string(),
  prefix: z.string().describe('the first characters of the secret, for telling keys apart'),
  scopes: z.array(z.enum(KEY_SCOPES)),
  models: z.array(z.string()).nullable(),
  metadata: z.record(z.string(), z.unknown()),
  status: z.enum(['active', 'expired', 'revoked']),
  expires_at: z.string().nullable(),
  previous_expires_at: z
    .string()
    .nullable()
    .describe('after a rotation with a grace period: when the previous secret stops working'),
  revoked_at: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const issuedKeyDto = apiKeyDto.extend({
  key: z.string().describe('the secret; shown only in this response, store it now'),
});

export type ApiKeyDto = z.infer<typeof apiKeyDto>;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export function toApiKeyDto(row: ApiKeyRow, nowMs = Date.now()): ApiKeyDto {
  const status = row.revokedAt
    ? 'revoked'
    : row.expiresAt && row.expiresAt.getTime() <= nowMs
      ? 'expired'
      : 'active';
  return {
    id: row.id,
    org_id: row.orgId,
    project_id: row.projectId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as ApiKeyDto['scopes'],
    models: row.models,
    metadata: row.metadata,
    status,
    expires_at: iso(row.expiresAt),
    previous_expires_at: row.previousHash ? iso(row.previousExpiresAt) : null,
    revoked_at: iso(row.revokedAt),
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
