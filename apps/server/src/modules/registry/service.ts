import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { changeTopic } from '../../events/change-topic.ts';
import { type Principal, requirePermission } from '../../http/principal.ts';
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
import { createModelCache, type EndpointLookup } from './model-cache.ts';
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
  const instance = randomUUID();
  let timer: NodeJS.Timeout | undefined;
  // Reads of the cache run one after another, so a read that started later is applied later.
  let queue: Promise<void> = Promise.resolve();

  const loadAll = async () => {
    const [m, v, s] = await Promise.all([
      db.select().from(models),
      db.select().from(modelVersions),
      acceptedShares(db),
    ]);
    cache.replace(m, v, s);
  };

  const loadOne = async (id: string) => {
    const [model] = await db.select().from(models).where(eq(models.id, id));
    const [versions, shares] = model
      ? await Promise.all([versionsOf(db, id), acceptedShares(db, id)])
      : [[], []];
    cache.upsert(id, model ?? null, versions, shares);
  };

  /** Reads one model (or, without an id, everything) into the cache. */
  const reload = (modelId?: string): Promise<void> => {
    const next = queue.then(() => (modelId ? loadOne(modelId) : loadAll()));
    queue = next.catch(() => {});
    return next;
  };

  /** After a commit: this replica reads the model now, the others on the push. */
  const changed = async (modelId?: string) => {
    await reload(modelId).catch((err: unknown) => log.warn({ err }, 'registry cache reload failed'));
    await bus.publish(REGISTRY_CHANGED, { origin: instance, id: modelId }).catch((err: unknown) => {
      log.warn({ err }, 'could not push a registry change to other replicas');
    });
  };

  const ctxOf = { db, audit, providers: deps.providers, changed };
  const versionOps = createVersionOps(ctxOf);
  const shareOps = createShareOps(ctxOf);

  return {
    cache,
    /** what other modules publish as the platform, in their own transaction */
    internal: createRegistryInternal({ audit, providers: deps.providers, changed }),
    ...versionOps,
    ...shareOps,

    async start() {
      bus.subscribe(REGISTRY_CHANGED, (payload) => {
        const msg = payload as { origin?: string; id?: unknown };
        if (msg?.origin === instance) return;
        reload(typeof msg?.id === 'string' ? msg.id : undefined).catch((err: unknown) =>
          log.warn({ err }, 'registry cache reload failed'),
        );
      });
      await reload();
      const every = deps.resyncIntervalMs ?? 60_000;
      if (every > 0) {
        timer = setInterval(
          () => reload().catch((err: unknown) => log.warn({ err }, 'registry resync failed')),
          every,
        );
        timer.unref();
      }
    },

    async stop() {
      clearInterval(timer);
      await queue;
    },

    async list(p: Principal, limit: number, cursor?: string): Promise<ModelWithVersions[]> {
      requirePermission(p, 'read');
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
      requirePermission(p, 'read');
      const model = await findModel(db, p.orgId, id);
      return { model, versions: await versionsOf(db, id) };
    },

    async create(p: Principal, input: CreateModelBody, ctx: AuditContext): Promise<ModelWithVersions> {
      requirePermission(p, 'write');
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
      requirePermission(p, 'read');
      await findModel(db, p.orgId, id);
      requirePermission(p, 'write');
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
      requirePermission(p, 'read');
      await findModel(db, p.orgId, id);
      requirePermission(p, 'write');
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
