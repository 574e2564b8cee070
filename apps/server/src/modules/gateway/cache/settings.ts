import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../../db/client.ts';
import type { Bus } from '../../../events/bus.ts';
import { changeTopic } from '../../../events/change-topic.ts';
import { createReplicatedCache } from '../../../events/replicated-cache.ts';
import { AppError, notFound } from '../../../http/app-error.ts';
import type { Principal } from '../../../http/principal.ts';
import type { AuditContext, AuditService } from '../../audit/index.ts';
import { modelCacheSettings } from './schema.ts';

export const CACHE_SETTINGS_CHANGED = changeTopic('cache.settings.changed');
export const MAX_TTL_S = 7 * 86_400;

export interface CacheSettings {
  modelId: string;
  enabled: boolean;
  ttlS: number;
  hitPricePercent: number;
  sharedAcrossOrgs: boolean;
}

export const cacheSettingsBody = z.strictObject({
  enabled: z.boolean().optional(),
  ttl_s: z.number().int().min(1).max(MAX_TTL_S).optional(),
  hit_price_percent: z.number().int().min(0).max(100).optional(),
  shared_across_orgs: z.boolean().optional(),
});

export const cacheSettingsDto = z.object({
  model_id: z.string(),
  enabled: z.boolean(),
  ttl_s: z.number(),
  hit_price_percent: z.number(),
  shared_across_orgs: z.boolean(),
});

const DEFAULTS = { enabled: false, ttlS: 300, hitPricePercent: 0, sharedAcrossOrgs: false };

const toDto = (s: CacheSettings): z.infer<typeof cacheSettingsDto> => ({
  model_id: s.modelId,
  enabled: s.enabled,
  ttl_s: s.ttlS,
  hit_price_percent: s.hitPricePercent,
  shared_across_orgs: s.sharedAcrossOrgs,
});

/**
 * The response cache settings of each model, in process (`enabledFor` is one map lookup); set by
 * the model's owner (write permission in its org). A replicated cache: one model re-read on each
 * `cache.settings.changed` from any replica, all of them every minute.
 */
export function createCacheSettings(deps: {
  db: Db;
  bus: Bus;
  log: Logger;
  audit: AuditService;
  /** is this one of the org's own models (by id)? */
  ownsModel(orgId: string, modelId: string): boolean;
  /** how often every model's settings are read again, in case a change message was lost */
  resyncIntervalMs?: number;
}) {
  const { db, audit } = deps;
  /** the settings of each model whose cache is on, by model id */
  const enabled = createReplicatedCache<CacheSettings>({
    name: 'response cache settings',
    bus: deps.bus,
    topic: CACHE_SETTINGS_CHANGED,
    log: deps.log,
    loadAll: async () =>
      (await db.select().from(modelCacheSettings).where(eq(modelCacheSettings.enabled, true))).map(
        (r) => [r.modelId, { ...r }] as const,
      ),
    async loadOne(modelId) {
      const [row] = await db
        .select()
        .from(modelCacheSettings)
        .where(and(eq(modelCacheSettings.modelId, modelId), eq(modelCacheSettings.enabled, true)));
      return row ? { ...row } : null;
    },
    resyncIntervalMs: deps.resyncIntervalMs ?? 60_000,
  });
  const current = async (modelId: string): Promise<CacheSettings> => {
    const [row] = await db.select().from(modelCacheSettings).where(eq(modelCacheSettings.modelId, modelId));
    return row ? { ...row } : { modelId, ...DEFAULTS };
  };

  return {
    /** the model's settings when its cache is on; undefined otherwise */
    enabledFor: (modelId: string): CacheSettings | undefined => enabled.get(modelId),

    async get(p: Principal, modelId: string) {
      if (!deps.ownsModel(p.orgId, modelId)) throw notFound('model');
      return toDto(await current(modelId));
    },

    async put(p: Principal, modelId: string, patch: z.infer<typeof cacheSettingsBody>, ctx: AuditContext) {
      if (!deps.ownsModel(p.orgId, modelId)) throw notFound('model');
      const before = await current(modelId);
      if (patch.shared_across_orgs !== undefined && patch.shared_across_orgs !== before.sharedAcrossOrgs) {
        if (p.kind !== 'user' || !p.isPlatformAdmin)
          throw new AppError('forbidden', 'only a platform admin may share cached answers across orgs');
      }
      const next: CacheSettings = {
        modelId,
        enabled: patch.enabled ?? before.enabled,
        ttlS: patch.ttl_s ?? before.ttlS,
        hitPricePercent: patch.hit_price_percent ?? before.hitPricePercent,
        sharedAcrossOrgs: patch.shared_across_orgs ?? before.sharedAcrossOrgs,
      };
      await db.transaction(async (tx) => {
        const values = { ...next, orgId: p.orgId, updatedAt: new Date() };
        await tx
          .insert(modelCacheSettings)
          .values(values)
          .onConflictDoUpdate({ target: modelCacheSettings.modelId, set: values });
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'model.cache.update',
          target: { type: 'model', id: modelId },
          before: toDto(before),
          after: toDto(next),
        });
      });
      await enabled.changed(modelId);
      return toDto(next);
    },

    start: () => enabled.start(),
    stop: () => enabled.close(),
  };
}

export type CacheSettingsBook = ReturnType<typeof createCacheSettings>;
