import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { changeTopic } from '../../events/change-topic.ts';
import { createReplicatedCache } from '../../events/replicated-cache.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import {
  type CreateModelBody,
  type ModelRow,
  toModelDto,
  type UpdateModelBody,
  type VersionRow,
} from './dto.ts';
import { createRegistryInternal } from './internal.ts';
import { createModelCache, type EndpointLookup, type ModelEntry } from './model-cache.ts';
import { models, modelVersions } from './schema.ts';
import { createShareOps } from './shares.ts';
import {
  acceptedShares,
  checkNames,
  checkTargets,
  findModel,
  lockOrg,
  normalizeFallbacks,
  type ProviderLookup,
  versionsOf,
} from './store.ts';
import { createVersionOps } from './versions.ts';

export const REGISTRY_CHANGED = changeTopic('registry.changed');

export interface RegistryServiceDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  log: Logger;
  providers: ProviderLookup;
  /** a fleet deployment provider's endpoints, which its targets route to */
  endpointsOf?: EndpointLookup;
  /** a full reload every this many ms, in case a push was lost */
  resyncIntervalMs?: number;
}

const STATUS_ACTIONS = {
  active: 'model.activate',
  deprecated: 'model.deprecate',
  retired: 'model.retire',
} as const;

export type ModelWithVersions = { model: ModelRow; versions: VersionRow[] };

export function createRegistryService(deps: RegistryServiceDeps) {
  const { db, audit, bus, log } = deps;
  const cache = createModelCache(deps.endpointsOf);

  /** Every model's rows, kept by every replica; a change reads one model again and compiles it. */
  const rows = createReplicatedCache<ModelEntry>({
    name: 'registry cache',
    bus,
    topic: REGISTRY_CHANGED,
    log,
    async loadAll() {
      const [m, v, s] = await Promise.all([
        db.select().from(models),
        db.select().from(modelVersions),
        acceptedShares(db),
      ]);
      const entries = new Map<string, ModelEntry>(
        m.map((model) => [model.id, { model, versions: [], shares: [] }]),
      );
      for (const version of v) entries.get(version.modelId)?.versions.push(version);
      for (const share of s) entries.get(share.modelId)?.shares.push(share);
      return entries;
    },
    async loadOne(id) {
      const [model] = await db.select().from(models).where(eq(models.id, id));
      if (!model) return null;
      const [versions, shares] = await Promise.all([versionsOf(db, id), acceptedShares(db, id)]);
      return { model, versions, shares };
    },
    onEntry: (id, entry) => cache.stage(id, entry ?? null),
    onChange: () => cache.flush(),
    resyncIntervalMs: deps.resyncIntervalMs ?? 60_000,
  });

  /** After a commit: this replica reads the model now (everything without an id), the others on the push. */
  const changed = (modelId?: string) => rows.changed(modelId);

  const ctxOf = { db, audit, providers: deps.providers, changed };
  const versionOps = createVersionOps(ctxOf);
  const shareOps = createShareOps(ctxOf);

  return {
    cache,
    /** what other modules publish as the platform, in their own transaction */
    internal: createRegistryInternal({ audit, providers: deps.providers, changed }),
    ...versionOps,
    ...shareOps,

    start: () => rows.start(),
    stop: () => rows.close(),

    async list(p: Principal, limit: number, cursor?: string): Promise<ModelWithVersions[]> {
      const rows = await db
        .select()
        .from(models)
        .where(and(eq(models.orgId, p.orgId), cursor ? gt(models.id, cursor) : undefined))
        .orderBy(asc(models.id))
        .limit(limit + 1);
      const ids = rows.map((r) => r.id);
      const versions = ids.length
        ? await db.select().from(modelVersions).where(inArray(modelVersions.modelId, ids))
        : [];
      return rows.map((model) => ({ model, versions: versions.filter((v) => v.modelId === model.id) }));
    },

    async get(p: Principal, id: string): Promise<ModelWithVersions> {
      const model = await findModel(db, p.orgId, id);
      return { model, versions: await versionsOf(db, id) };
    },

    async create(p: Principal, input: CreateModelBody, ctx: AuditContext): Promise<ModelWithVersions> {
      const aliases = input.aliases ?? [];
      const result = await db.transaction(async (tx) => {
        await lockOrg(tx, p.orgId);
        await checkNames(tx, p.orgId, [input.name, ...aliases], null);
        const targets = await checkTargets(tx, p.orgId, deps.providers, input.type, input.targets);
        const [model] = await tx
          .insert(models)
          .values({
            id: newId('mdl'),
            orgId: p.orgId,
            name: input.name,
            type: input.type,
            aliases,
            description: input.description ?? null,
            contextLength: input.context_length ?? null,
            defaultParams: input.default_params ?? {},
            access: input.access?.projects ? { projects: input.access.projects } : {},
            fallbacks: normalizeFallbacks(input.fallbacks ?? [], [input.name, ...aliases]),
          })
          .returning();
        const [version] = await tx
          .insert(modelVersions)
          .values({
            id: newId('ver'),
            modelId: model!.id,
            version: '1',
            targets,
            trafficWeight: 100,
            pricing: input.pricing ?? null,
          })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'model.create',
          target: { type: 'model', id: model!.id },
          after: toModelDto(model!, [version!]),
        });
        return { model: model!, versions: [version!] };
      });
      await changed(result.model.id);
      return result;
    },

    async update(
      p: Principal,
      id: string,
      input: UpdateModelBody,
      ctx: AuditContext,
    ): Promise<ModelWithVersions> {
      await findModel(db, p.orgId, id);
      const result = await db.transaction(async (tx) => {
        await lockOrg(tx, p.orgId);
        const before = await findModel(tx, p.orgId, id);
        const name = input.name ?? before.name;
        const aliases = input.aliases ?? before.aliases;
        if (input.name !== undefined || input.aliases !== undefined)
          await checkNames(tx, p.orgId, [name, ...aliases], id);
        const [after] = await tx
          .update(models)
          .set({
            name,
            aliases,
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.context_length !== undefined ? { contextLength: input.context_length } : {}),
            ...(input.default_params !== undefined ? { defaultParams: input.default_params } : {}),
            ...(input.access !== undefined
              ? { access: input.access.projects ? { projects: input.access.projects } : {} }
              : {}),
            ...(input.fallbacks !== undefined
              ? { fallbacks: normalizeFallbacks(input.fallbacks, [name, ...aliases]) }
              : {}),
            ...(input.status !== undefined ? { status: input.status } : {}),
            updatedAt: new Date(),
          })
          .where(eq(models.id, id))
          .returning();
        const versions = await versionsOf(tx, id);
        const action =
          input.status !== undefined && input.status !== before.status
            ? STATUS_ACTIONS[input.status]
            : 'model.update';
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action,
          target: { type: 'model', id },
          before: toModelDto(before, versions),
          after: toModelDto(after!, versions),
        });
        return { model: after!, versions };
      });
      await changed(id);
      return result;
    },

    async remove(p: Principal, id: string, ctx: AuditContext): Promise<void> {
      await findModel(db, p.orgId, id);
      await db.transaction(async (tx) => {
        const before = await findModel(tx, p.orgId, id);
        const versions = await versionsOf(tx, id);
        await tx.delete(models).where(eq(models.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'model.delete',
          target: { type: 'model', id },
          before: toModelDto(before, versions),
        });
      });
      await changed(id);
    },
  };
}

export type RegistryService = ReturnType<typeof createRegistryService>;
