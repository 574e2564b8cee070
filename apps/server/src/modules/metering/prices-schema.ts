import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

/**
 * The price book: prices per model (and optionally per version) with the date they take effect.
 * Prices are kept in nano-units of the currency per token, so costs add up exactly in integers
 * (1.25 per million tokens = 1250 nanos per token).
 */
export const modelPrices = pgTable(
  'model_prices',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    /** null: every version of the model without a price of its own */
    versionId: text('version_id'),
    currency: text('currency').notNull(),
    inputNanos: bigint('input_nanos', { mode: 'number' }).notNull(),
    cachedInputNanos: bigint('cached_input_nanos', { mode: 'number' }).notNull(),
    outputNanos: bigint('output_nanos', { mode: 'number' }).notNull(),
    reasoningNanos: bigint('reasoning_nanos', { mode: 'number' }).notNull(),
    /** per image, by `size:quality` (`1024x1024:standard`), or `size` for any quality, or `*` for any */
    imageNanos: jsonb('image_nanos').$type<Record<string, number>>().notNull().default({}),
    /** per second of audio transcribed or translated */
    audioSecondNanos: bigint('audio_second_nanos', { mode: 'number' }).notNull().default(0),
    /** per character of text spoken (/v1/audio/speech input) */
    characterNanos: bigint('character_nanos', { mode: 'number' }).notNull().default(0),
    /** batch lines (/v1/batches) are billed this many percent below the price */
    batchDiscountPercent: integer('batch_discount_percent').notNull().default(0),
    effectiveFrom: timestamp('effective_from', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('model_prices_model_idx').on(t.modelId, t.effectiveFrom)],
);
