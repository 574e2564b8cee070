import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { type ModelRow, toModelDto, toVersionDto, type VersionRow } from './dto.ts';
import { type ModelTarget, models, modelVersions } from './schema.ts';
import { checkNames, checkTargets, lockOrg, type ProviderLookup, versionsOf } from './store.ts';

interface InternalDeps {
  audit: AuditService;
  providers: ProviderLookup;
  changed(modelId: string): Promise<void>;
}

/** A model the platform publishes on an org's behalf (a fleet deployment, a fine-tuned adapter). */
export interface PublishedModel {
  orgId: string;
  /** the model published before; null (or gone): a new one is created */
  modelId: string | null;
  name: string;
  type: ModelRow['type'];
  description?: string;
  contextLength?: number | null;
  /** versions and their targets; the model's other versions are left as they are */
  versions: { label: string; targets: ModelTarget[] }[];
  /** version label → traffic weight, every other version 0; left out: the split stays as it is */
  traffic?: Record<string, number>;
}

const sameTargets = (a: readonly ModelTarget[], b: readonly ModelTarget[]) => {
  const norm = (list: readonly ModelTarget[]) =>
    JSON.stringify(
      list
        .map((t) => [t.provider_id, t.upstream_model, t.weight, t.priority, t.endpoint_group ?? null])
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    );
  return norm(a) === norm(b);
};

/**
 * The registry as other modules use it: inside the caller's transaction, acting as the platform
 * (audited with the caller's system context), with no principal to fake. The caller calls
 * `changed(modelId)` once its transaction has committed.
 */
export function createRegistryInternal({ audit, providers, changed }: InternalDeps) {
  const findIn = async (tx: DbOrTx, orgId: string, id: string): Promise<ModelRow | null> => {
    const [row] = await tx
      .select()
      .from(models)
      .where(and(eq(models.id, id), eq(models.orgId, orgId)));
    return row ?? null;
  };

  return {
    async find(
      tx: DbOrTx,
      orgId: string,
      id: string,
    ): Promise<{ model: ModelRow; versions: VersionRow[] } | null> {
      const model = await findIn(tx, orgId, id);
      return model ? { model, versions: await versionsOf(tx, id) } : null;
    },

    /** Creates or brings up to date a published model; says whether anything was written. */
    async publish(
      tx: DbOrTx,
      input: PublishedModel,
      ctx: AuditContext,
    ): Promise<{ modelId: string; changed: boolean }> {
      await lockOrg(tx, input.orgId);
      let model = input.modelId ? await findIn(tx, input.orgId, input.modelId) : null;
      let wrote = false;
      if (!model) {
        await checkNames(tx, input.orgId, [input.name], null);
        const [created] = await tx
          .insert(models)
          .values({
            id: newId('mdl'),
            orgId: input.orgId,
            name: input.name,
            type: input.type,
            aliases: [],
            description: input.description ?? null,
            contextLength: input.contextLength ?? null,
          })
          .returning();
        model = created!;
        await audit.append(tx, ctx, {
          orgId: input.orgId,
          action: 'model.create',
          target: { type: 'model', id: model.id },
          after: toModelDto(model, []),
        });
        wrote = true;
      }
      const id = model.id;
      const { name, type } = model;
      const existing = new Map((await versionsOf(tx, id)).map((v) => [v.version, v]));
      for (const v of input.versions) {
        const targets = await checkTargets(tx, input.orgId, providers, type, v.targets);
        const have = existing.get(v.label);
        if (!have) {
          const [created] = await tx
            .insert(modelVersions)
            .values({ id: newId('ver'), modelId: id, version: v.label, targets, trafficWeight: 0 })
            .returning();
          existing.set(v.label, created!);
          await audit.append(tx, ctx, {
            orgId: input.orgId,
            action: 'model.version.create',
            target: { type: 'model', id },
            after: { model: name, ...toVersionDto(created!) },
          });
          wrote = true;
        } else if (!sameTargets(have.targets, targets)) {
          const [after] = await tx
            .update(modelVersions)
            .set({ targets })
            .where(eq(modelVersions.id, have.id))
            .returning();
          existing.set(v.label, after!);
          await audit.append(tx, ctx, {
            orgId: input.orgId,
            action: 'model.version.update',
            target: { type: 'model', id },
            before: { model: name, ...toVersionDto(have) },
            after: { model: name, ...toVersionDto(after!) },
          });
          wrote = true;
        }
      }
      const traffic = input.traffic;
      if (traffic) {
        const before = [...existing.values()];
        const unknown = Object.keys(traffic).filter((l) => !existing.has(l));
        if (unknown.length) throw new AppError('unprocessable', `unknown version ${unknown.join(', ')}`);
        if (Object.values(traffic).reduce((s, w) => s + w, 0) <= 0)
          throw new AppError('unprocessable', 'at least one version needs a weight above 0');
        const moved = before.filter((v) => (traffic[v.version] ?? 0) !== v.trafficWeight);
        for (const v of moved)
          await tx
            .update(modelVersions)
            .set({ trafficWeight: traffic[v.version] ?? 0 })
            .where(eq(modelVersions.id, v.id));
        if (moved.length > 0) {
          const after = await versionsOf(tx, id);
          await audit.append(tx, ctx, {
            orgId: input.orgId,
            action: 'model.traffic.set',
            target: { type: 'model', id },
            before: toModelDto(model, before).traffic,
            after: toModelDto(model, after).traffic,
          });
          wrote = true;
        }
      }
      return { modelId: id, changed: wrote };
    },

    /** Deletes a published model; false when it was gone already. */
    async remove(tx: DbOrTx, orgId: string, id: string, ctx: AuditContext): Promise<boolean> {
      const before = await findIn(tx, orgId, id);
      if (!before) return false;
      const versions = await versionsOf(tx, id);
      await tx.delete(models).where(eq(models.id, id));
      await audit.append(tx, ctx, {
        orgId,
        action: 'model.delete',
        target: { type: 'model', id },
        before: toModelDto(before, versions),
      });
      return true;
    },

    /** After the caller's transaction committed: the caches read the model again. */
    changed,
  };
}

export type RegistryInternal = ReturnType<typeof createRegistryInternal>;
