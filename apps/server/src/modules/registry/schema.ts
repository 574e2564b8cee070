import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `image`: /v1/images; `tts`: /v1/audio/speech; `stt`: /v1/audio/transcriptions and translations */
export const MODEL_TYPES = ['chat', 'completion', 'embedding', 'rerank', 'image', 'tts', 'stt'] as const;
export const MODEL_STATUSES = ['active', 'deprecated', 'retired'] as const;

export interface ModelTarget {
  provider_id: string;
  upstream_model: string;
  weight: number;
  priority: number;
  /** only the provider's endpoints of this group (a fleet deployment's version); unset: all of them */
  endpoint_group?: string;
}

export interface ModelPricing {
  currency: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million?: number;
  reasoning_per_million?: number;
}

/**
 * Which projects of the owning org may call the model (all when unset). Other orgs reach a model
 * only through a share they accepted (`model_shares`), never through this field.
 */
export interface ModelAccess {
  projects?: string[];
}

export const models = pgTable(
  'models',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    type: text('type', { enum: MODEL_TYPES }).notNull(),
    aliases: text('aliases').array().notNull().default([]),
    description: text('description'),
    contextLength: integer('context_length'),
    defaultParams: jsonb('default_params').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: MODEL_STATUSES }).notNull().default('active'),
    access: jsonb('access').$type<ModelAccess>().notNull().default({}),
    fallbacks: jsonb('fallbacks').$type<{ model: string; on?: string[] }[]>().notNull().default([]),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('models_org_name_uq').on(t.orgId, t.name)],
);

/** A version holds its targets; `traffic_weight` splits traffic between versions (canary). */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    version: text('version').notNull(),
    targets: jsonb('targets').$type<ModelTarget[]>().notNull(),
    trafficWeight: integer('traffic_weight').notNull().default(0),
    pricing: jsonb('pricing').$type<ModelPricing | null>(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('model_versions_model_version_uq').on(t.modelId, t.version)],
);

export const SHARE_STATUSES = ['offered', 'accepted', 'declined'] as const;

/**
 * A model offered by its org to another org. The receiving org sees it (as `<owner-slug>/<name>`)
 * only once it has accepted; the owner revokes by deleting the row, the receiver declines.
 */
export const modelShares = pgTable(
  'model_shares',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    ownerOrgId: text('owner_org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    consumerOrgId: text('consumer_org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    status: text('status', { enum: SHARE_STATUSES }).notNull().default('offered'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('model_shares_model_consumer_uq').on(t.modelId, t.consumerOrgId),
    index('model_shares_owner_idx').on(t.ownerOrgId),
    index('model_shares_consumer_idx').on(t.consumerOrgId),
  ],
);
