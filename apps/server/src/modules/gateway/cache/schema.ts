import { boolean, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from '../../identity/schema.ts';
import { models } from '../../registry/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * The response cache of one model, set by its owner: on or off, how long an answer is kept, what
 * share of the list price a hit costs (0 by default). `shared_across_orgs` lets every org that may
 * call the model share its answers; only a platform admin may set it (answers are per org otherwise).
 */
export const modelCacheSettings = pgTable('model_cache_settings', {
  modelId: text('model_id')
    .primaryKey()
    .references(() => models.id, { onDelete: 'cascade' }),
  orgId: text('org_id')
    .notNull()
    .references(() => orgs.id, { onDelete: 'cascade' }),
  enabled: boolean('enabled').notNull().default(false),
  ttlS: integer('ttl_s').notNull().default(300),
  hitPricePercent: integer('hit_price_percent').notNull().default(0),
  sharedAcrossOrgs: boolean('shared_across_orgs').notNull().default(false),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
