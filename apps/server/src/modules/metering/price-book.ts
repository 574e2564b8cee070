import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { changeTopic } from '../../events/change-topic.ts';
import { createReplicatedCache } from '../../events/replicated-cache.ts';
import { AppError, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { models, modelVersions } from '../registry/schema.ts';
import { modelPrices } from './prices-schema.ts';

export const PRICES_CHANGED = changeTopic('prices.changed');

export type PriceRow = typeof modelPrices.$inferSelect;

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

/** Per-million prices as people write them. */
export interface PriceInput {
  model_id: string;
  version_id?: string | null | undefined;
  currency: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million?: number | undefined;
  reasoning_per_million?: number | undefined;
  batch_discount_percent?: number | undefined;
  /** per image, by `size:quality` (`1024x1024:hd`), `size`, or `*` */
  image_prices?: Record<string, number> | undefined;
  audio_per_second?: number | undefined;
  characters_per_million?: number | undefined;
  effective_from?: string | undefined;
}

/** 1 currency unit per million tokens = 1000 nano-units per token. */
export const perMillionToNanos = (perMillion: number) => Math.round(perMillion * 1000);
export const nanosToPerMillion = (nanos: number) => nanos / 1000;

/**
 * Cost of one request at a price. Cached prompt tokens are billed at the cached rate and reasoning
 * tokens (a part of the completion) at the reasoning rate.
 */
export function costNanos(price: PriceRow, u: TokenUsage): number {
  const cached = Math.min(u.cachedTokens, u.promptTokens);
  const reasoning = Math.min(u.reasoningTokens, u.completionTokens);
  return (
    (u.promptTokens - cached) * price.inputNanos +
    cached * price.cachedInputNanos +
    (u.completionTokens - reasoning) * price.outputNanos +
    reasoning * price.reasoningNanos
  );
}

/** Units of /v1/images and /v1/audio calls. */
export interface MediaUsage {
  images: number;
  /** the priced variant of the images, `size:quality` */
  imageSize: string | null;
  audioMs: number;
  characters: number;
}

/** 1 currency unit = 1e9 nanos. */
export const unitsToNanos = (amount: number) => Math.round(amount * 1e9);

/** The price of one image of `size:quality`: that entry, else the size's, else `*`, else 0. */
export function imageNanos(price: PriceRow, sizeQuality: string | null): number {
  const book = price.imageNanos;
  if (!sizeQuality) return book['*'] ?? 0;
  const size = sizeQuality.split(':', 1)[0]!;
  return book[sizeQuality] ?? book[size] ?? book['*'] ?? 0;
}

/** Cost of the media units of one request: images by their size and quality, audio by the ms, characters. */
export function mediaCostNanos(price: PriceRow, u: MediaUsage): number {
  return (
    u.images * imageNanos(price, u.imageSize) +
    Math.round((u.audioMs * price.audioSecondNanos) / 1000) +
    u.characters * price.characterNanos
  );
}

/** The cost of a batch line: the price's batch discount applied. */
export const batchCostNanos = (price: PriceRow, nanos: number) =>
  Math.round((nanos * (100 - price.batchDiscountPercent)) / 100);

const byEffectiveFrom = (a: PriceRow, b: PriceRow) =>
  a.effectiveFrom.getTime() - b.effectiveFrom.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createPriceBook({
  db,
  bus,
  audit,
  log,
  resyncIntervalMs,
}: {
  db: Db;
  bus: Bus;
  audit: AuditService;
  log: Logger;
  /** how often the whole book is read again, in case a change message was lost */
  resyncIntervalMs?: number;
}) {
  /** model id → its prices, oldest first; the whole book is small and lives in memory. */
  let byModel = new Map<string, PriceRow[]>();
  const cache = createReplicatedCache<PriceRow>({
    name: 'price book',
    bus,
    topic: PRICES_CHANGED,
    log,
    loadAll: async () => (await db.select().from(modelPrices)).map((row) => [row.id, row] as const),
    async loadOne(id) {
      const [row] = await db.select().from(modelPrices).where(eq(modelPrices.id, id));
      return row ?? null;
    },
    onChange(entries) {
      const next = new Map<string, PriceRow[]>();
      for (const row of entries.values()) {
        const list = next.get(row.modelId);
        if (list) list.push(row);
        else next.set(row.modelId, [row]);
      }
      for (const list of next.values()) list.sort(byEffectiveFrom);
      byModel = next;
    },
    resyncIntervalMs: resyncIntervalMs ?? 60_000,
  });

  return {
    start: () => cache.start(),
    stop: () => cache.close(),

    /** The price in effect at `at`: the version's own if it has one, else the model's. No SQL. */
    priceAt(modelId: string, versionId: string | null, at: Date): PriceRow | null {
      const list = byModel.get(modelId);
      if (!list) return null;
      let own: PriceRow | null = null;
      let shared: PriceRow | null = null;
      const t = at.getTime();
      for (const row of list) {
        if (row.effectiveFrom.getTime() > t) break;
        if (row.versionId === null) shared = row;
        else if (row.versionId === versionId) own = row;
      }
      return own ?? shared;
    },

    async list(p: Principal, filter: { modelId?: string | undefined }, limit: number, cursor?: string) {
      const where: SQL[] = [eq(modelPrices.orgId, p.orgId)];
      if (filter.modelId) where.push(eq(modelPrices.modelId, filter.modelId));
      if (cursor) where.push(gt(modelPrices.id, cursor));
      return db
        .select()
        .from(modelPrices)
        .where(and(...where))
        .orderBy(asc(modelPrices.id))
        .limit(limit + 1);
    },

    async create(p: Principal, input: PriceInput, ctx: AuditContext) {
      const effectiveFrom = input.effective_from ? new Date(input.effective_from) : new Date();
      const row = await db.transaction(async (tx) => {
        const [model] = await tx
          .select({ id: models.id })
          .from(models)
          .where(and(eq(models.id, input.model_id), eq(models.orgId, p.orgId)));
        if (!model) throw notFound('model');
        if (input.version_id) {
          const [version] = await tx
            .select({ id: modelVersions.id })
            .from(modelVersions)
            .where(and(eq(modelVersions.id, input.version_id), eq(modelVersions.modelId, model.id)));
          if (!version) throw notFound('model version');
        }
        const [inserted] = await tx
          .insert(modelPrices)
          .values({
            id: newId('prc'),
            orgId: p.orgId,
            modelId: model.id,
            versionId: input.version_id ?? null,
            currency: input.currency.toUpperCase(),
            inputNanos: perMillionToNanos(input.input_per_million),
            outputNanos: perMillionToNanos(input.output_per_million),
            cachedInputNanos: perMillionToNanos(input.cached_input_per_million ?? input.input_per_million),
            reasoningNanos: perMillionToNanos(input.reasoning_per_million ?? input.output_per_million),
            batchDiscountPercent: input.batch_discount_percent ?? 0,
            imageNanos: Object.fromEntries(
              Object.entries(input.image_prices ?? {}).map(([k, v]) => [k, unitsToNanos(v)]),
            ),
            audioSecondNanos: unitsToNanos(input.audio_per_second ?? 0),
            characterNanos: perMillionToNanos(input.characters_per_million ?? 0),
            effectiveFrom,
            createdBy: ctx.actorId,
          })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'price.create',
          target: { type: 'price', id: inserted!.id },
          after: inserted,
        });
        return inserted!;
      });
      await cache.changed(row.id, row);
      return row;
    },

    /** Only a price that has not taken effect yet may be withdrawn: the past stays billable. */
    async remove(p: Principal, id: string, ctx: AuditContext) {
      const [row] = await db
        .select()
        .from(modelPrices)
        .where(and(eq(modelPrices.id, id), eq(modelPrices.orgId, p.orgId)));
      if (!row) throw notFound('price');
      if (row.effectiveFrom.getTime() <= Date.now()) {
        throw new AppError(
          'conflict',
          'this price is already in effect; add a new price with a later effective_from instead',
        );
      }
      await db.transaction(async (tx) => {
        await tx.delete(modelPrices).where(eq(modelPrices.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'price.delete',
          target: { type: 'price', id },
          before: row,
        });
      });
      await cache.changed(id, null);
    },
  };
}

export type PriceBook = ReturnType<typeof createPriceBook>;
