import { z } from 'zod';
import { MODEL_STATUSES, MODEL_TYPES, type models, type modelVersions } from './schema.ts';

export const FALLBACK_CLASSES = ['unavailable', 'context_length'] as const;
export type FallbackClass = (typeof FALLBACK_CLASSES)[number];

export const modelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/, 'letters, digits and . _ : / @ + - (at most 200)');
const versionLabel = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, 'letters, digits and . _ - (at most 50)');

const target = z.strictObject({
  provider_id: z.string().min(1).max(100),
  upstream_model: z.string().min(1).max(500).describe('the model name the upstream expects'),
  weight: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .optional()
    .describe('share of traffic within its priority tier (default 1)'),
  priority: z
    .number()
    .int()
    .min(0)
    .max(100)
    .optional()
    .describe('0 is tried first; higher tiers are used when lower ones fail'),
});

const pricing = z.strictObject({
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD'),
  input_per_million: z.number().min(0).max(1e6),
  output_per_million: z.number().min(0).max(1e6),
  cached_input_per_million: z.number().min(0).max(1e6).optional(),
  reasoning_per_million: z.number().min(0).max(1e6).optional(),
});

const fallback = z.union([
  modelName,
  z.strictObject({
    model: modelName,
    on: z
      .array(z.enum(FALLBACK_CLASSES))
      .min(1)
      .optional()
      .describe('error classes that trigger it (default: all)'),
  }),
]);

const access = z
  .strictObject({
    orgs: z
      .never({
        error:
          'access.orgs is replaced by model shares: offer the model with POST /api/v1/models/{id}/shares and the other org accepts it',
      })
      .optional(),
    projects: z
      .array(z.string().min(1).max(100))
      .max(1000)
      .optional()
      .describe('if set, only these projects of the owning org'),
  })
  .describe('which projects of your org may call the model (other orgs: see model shares)');

const defaultParams = z
  .record(z.string().max(100), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 16_384, 'at most 16 KiB of JSON')
  .describe('request fields applied when the client does not send them (e.g. temperature)');

export const createModelBody = z.strictObject({
  name: modelName,
  type: z.enum(MODEL_TYPES),
  aliases: z.array(modelName).max(20).optional(),
  description: z.string().max(2000).optional(),
  context_length: z.number().int().min(1).max(100_000_000).optional(),
  default_params: defaultParams.optional(),
  pricing: pricing.optional(),
  targets: z.array(target).min(1).max(50),
  fallbacks: z.array(fallback).max(10).optional(),
  access: access.optional(),
});

export const updateModelBody = z.strictObject({
  name: modelName.optional(),
  aliases: z.array(modelName).max(20).optional(),
  description: z.string().max(2000).nullable().optional(),
  context_length: z.number().int().min(1).max(100_000_000).nullable().optional(),
  default_params: defaultParams.optional(),
  fallbacks: z.array(fallback).max(10).optional(),
  access: access.optional(),
  status: z
    .enum(MODEL_STATUSES)
    .optional()
    .describe('active → deprecated (served with a warning) → retired (404)'),
});

export const createVersionBody = z.strictObject({
  version: versionLabel.optional().describe('default: the next number'),
  targets: z.array(target).max(50),
  pricing: pricing.nullable().optional(),
  traffic_weight: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .optional()
    .describe('default 0: no traffic until you shift some'),
});

export const updateVersionBody = z.strictObject({
  targets: z.array(target).max(50).optional(),
  pricing: pricing.nullable().optional(),
});

export const trafficBody = z.strictObject({
  weights: z
    .record(versionLabel, z.number().int().min(0).max(10_000))
    .describe('version → weight; versions left out get 0. Roll back by moving the weight back'),
});

export const versionParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'not a valid id'),
  version: versionLabel,
});

export type CreateModelBody = z.infer<typeof createModelBody>;
export type UpdateModelBody = z.infer<typeof updateModelBody>;
export type CreateVersionBody = z.infer<typeof createVersionBody>;
export type UpdateVersionBody = z.infer<typeof updateVersionBody>;
export type TargetInput = z.infer<typeof target>;
export type FallbackInput = z.infer<typeof fallback>;

const targetDto = z.object({
  provider_id: z.string(),
  upstream_model: z.string(),
  weight: z.number(),
  priority: z.number(),
  endpoint_group: z
    .string()
    .optional()
    .describe("set by the fleet: only the deployment's replicas of this version"),
});

export const versionDto = z.object({
  id: z.string(),
  model_id: z.string(),
  version: z.string(),
  targets: z.array(targetDto),
  traffic_weight: z.number(),
  pricing: pricing.nullable(),
  created_at: z.string(),
});

export const modelDto = z.object({
  id: z.string(),
  org_id: z.string(),
  name: z.string(),
  type: z.enum(MODEL_TYPES),
  aliases: z.array(z.string()),
  description: z.string().nullable(),
  context_length: z.number().nullable(),
  default_params: z.record(z.string(), z.unknown()),
  status: z.enum(MODEL_STATUSES),
  access: z.object({ projects: z.array(z.string()).optional() }),
  fallbacks: z.array(z.object({ model: z.string(), on: z.array(z.string()).optional() })),
  traffic: z.record(z.string(), z.number()).describe('version → traffic weight'),
  versions: z.array(versionDto),
  created_at: z.string(),
  updated_at: z.string(),
});

export type ModelRow = typeof models.$inferSelect;
export type VersionRow = typeof modelVersions.$inferSelect;
export type ModelDto = z.infer<typeof modelDto>;

export function toVersionDto(v: VersionRow): z.infer<typeof versionDto> {
  return {
    id: v.id,
    model_id: v.modelId,
    version: v.version,
    targets: v.targets,
    traffic_weight: v.trafficWeight,
    pricing: v.pricing ? { ...v.pricing, currency: v.pricing.currency ?? 'USD' } : null,
    created_at: v.createdAt.toISOString(),
  };
}

export function toModelDto(m: ModelRow, versions: VersionRow[]): ModelDto {
  const sorted = [...versions].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
  );
  return {
    id: m.id,
    org_id: m.orgId,
    name: m.name,
    type: m.type,
    aliases: m.aliases,
    description: m.description,
    context_length: m.contextLength,
    default_params: m.defaultParams,
    status: m.status,
    access: m.access.projects ? { projects: m.access.projects } : {},
    fallbacks: m.fallbacks,
    traffic: Object.fromEntries(sorted.map((v) => [v.version, v.trafficWeight])),
    versions: sorted.map(toVersionDto),
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
}
