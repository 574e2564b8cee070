import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import {
  type CreateVersionBody,
  type ModelRow,
  toModelDto,
  toVersionDto,
  type UpdateVersionBody,
  type VersionRow,
} from './dto.ts';
import { modelVersions } from './schema.ts';
import { checkTargets, findModel, type ProviderLookup, versionsOf } from './store.ts';

interface VersionDeps {
  db: Db;
  audit: AuditService;
  providers: ProviderLookup;
  /** after a commit that changed a model */
  changed(modelId: string): Promise<void>;
}

/** The next free number after the highest numeric version label. */
function nextLabel(versions: VersionRow[]): string {
  const numbers = versions.map((v) => Number(v.version)).filter((n) => Number.isInteger(n) && n >= 0);
  return String(numbers.length ? Math.max(...numbers) + 1 : 1);
}

/** Versions of a model, and the traffic split between them (canary, rollback). */
export function createVersionOps({ db, audit, providers, changed }: VersionDeps) {
  const requireModel = async (p: Principal, id: string) => {
    await findModel(db, p.orgId, id);
  };

  return {
    async listVersions(p: Principal, id: string): Promise<VersionRow[]> {
      await findModel(db, p.orgId, id);
      return versionsOf(db, id);
    },

    async createVersion(
      p: Principal,
      id: string,
      input: CreateVersionBody,
      ctx: AuditContext,
    ): Promise<VersionRow> {
      await requireModel(p, id);
      if (input.targets.length === 0)
        throw new AppError('unprocessable', 'a version needs at least one target', undefined, {
          param: 'targets',
        });
      const row = await db.transaction(async (tx) => {
        const model = await findModel(tx, p.orgId, id);
        await tx
          .select({ id: modelVersions.id })
          .from(modelVersions)
          .where(eq(modelVersions.modelId, id))
          .for('update');
        const existing = await versionsOf(tx, id);
        const label = input.version ?? nextLabel(existing);
        if (existing.some((v) => v.version === label)) throw conflict(`version "${label}" already exists`);
        const targets = await checkTargets(tx, p.orgId, providers, model.type, input.targets);
        const [created] = await tx
          .insert(modelVersions)
          .values({
            id: newId('ver'),
            modelId: id,
            version: label,
            targets,
            trafficWeight: input.traffic_weight ?? 0,
            pricing: input.pricing ?? null,
          })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'model.version.create',
          target: { type: 'model', id },
          after: { model: model.name, ...toVersionDto(created!) },
        });
        return created!;
      });
      await changed(id);
      return row;
    },

    async updateVersion(
      p: Principal,
      id: string,
      version: string,
      input: UpdateVersionBody,
      ctx: AuditContext,
    ): Promise<VersionRow> {
      await requireModel(p, id);
      if (input.targets?.length === 0)
        throw new AppError('unprocessable', 'a version needs at least one target', undefined, {
          param: 'targets',
        });
      const row = await db.transaction(async (tx) => {
        const model = await findModel(tx, p.orgId, id);
        const before = (await versionsOf(tx, id)).find((v) => v.version === version);
        if (!before) throw notFound('model version');
        const targets = input.targets
          ? await checkTargets(tx, p.orgId, providers, model.type, input.targets)
          : undefined;
        const [after] = await tx
          .update(modelVersions)
          .set({
            ...(targets ? { targets } : {}),
            ...(input.pricing !== undefined ? { pricing: input.pricing } : {}),
          })
          .where(eq(modelVersions.id, before.id))
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'model.version.update',
          target: { type: 'model', id },
          before: { model: model.name, ...toVersionDto(before) },
          after: { model: model.name, ...toVersionDto(after!) },
        });
        return after!;
      });
      await changed(id);
      return row;
    },

    /** Sets every version's weight at once: versions left out get 0. Rolling back is setting them back. */
    async setTraffic(
      p: Principal,
      id: string,
      weights: Record<string, number>,
      ctx: AuditContext,
    ): Promise<{ model: ModelRow; versions: VersionRow[] }> {
      await requireModel(p, id);
      const result = await db.transaction(async (tx) => {
        const model = await findModel(tx, p.orgId, id);
        await tx
          .select({ id: modelVersions.id })
          .from(modelVersions)
          .where(eq(modelVersions.modelId, id))
          .for('update');
        const before = await versionsOf(tx, id);
        const labels = new Set(before.map((v) => v.version));
        const unknown = Object.keys(weights).filter((v) => !labels.has(v));
        if (unknown.length)
          throw new AppError('unprocessable', `unknown version ${unknown.join(', ')}`, { versions: unknown });
        const total = Object.values(weights).reduce((s, w) => s + w, 0);
        if (total <= 0)
          throw new AppError('unprocessable', 'at least one version needs a weight above 0', undefined, {
            param: 'weights',
          });
        const empty = before.find((v) => (weights[v.version] ?? 0) > 0 && v.targets.length === 0);
        if (empty) throw new AppError('unprocessable', `version ${empty.version} has no targets`);
        for (const v of before) {
          const weight = weights[v.version] ?? 0;
          if (weight !== v.trafficWeight) {
            await tx.update(modelVersions).set({ trafficWeight: weight }).where(eq(modelVersions.id, v.id));
          }
        }
        const after = await versionsOf(tx, id);
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'model.traffic.set',
          target: { type: 'model', id },
          before: toModelDto(model, before).traffic,
          after: toModelDto(model, after).traffic,
        });
        return { model, versions: after };
      });
      await changed(id);
      return result;
    },
  };
}
