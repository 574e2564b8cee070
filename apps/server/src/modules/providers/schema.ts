import { integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const PROVIDER_TYPES = ['openai-compatible', 'anthropic'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/**
 * One replica of a fleet deployment behind its deployment's provider: its own address and sealed
 * credential, and the group (the deployment's version label) that registry targets may select.
 */
export interface ProviderEndpoint {
  id: string;
  url: string;
  api_key_enc: string | null;
  group: string;
}

/**
 * Upstream connections. `api_key_enc` and `headers_enc` are AES-256-GCM under MAAS_SECRET_KEY.
 * A tenant's base URL must pass the outbound policy. A `managed_by: fleet` provider is a deployment's:
 * its `endpoints` are the deployment's running replicas (base_url and api_key_enc mirror the first).
 */
export const providers = pgTable(
  'providers',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    type: text('type', { enum: PROVIDER_TYPES }).notNull(),
    baseUrl: text('base_url').notNull(),
    apiKeyEnc: text('api_key_enc'),
    headersEnc: text('headers_enc'),
    timeoutMs: integer('timeout_ms').notNull().default(60_000),
    maxConnections: integer('max_connections').notNull().default(128),
    /** `fleet`: a deployment's provider; its addresses come from nodes, tenants cannot change it */
    managedBy: text('managed_by', { enum: ['fleet'] }),
    /** a fleet deployment's replicas; null for a single-address provider */
    endpoints: jsonb('endpoints').$type<ProviderEndpoint[] | null>(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('providers_org_name_uq').on(t.orgId, t.name)],
);
