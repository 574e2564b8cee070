import { and, asc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import { orgs } from '../identity/schema.ts';
import type { FallbackInput, ModelRow, TargetInput, VersionRow } from './dto.ts';
import type { AcceptedShare } from './model-cache.ts';
import { type ModelTarget, modelShares, models, modelVersions } from './schema.ts';

/** Looks a provider up in an org (the providers service's `find`): throws a 404 AppError if absent. */
export type FindProvider = (tx: DbOrTx, orgId: string, providerId: string) => Promise<{ type: string }>;

/** What the registry asks of the providers module. */
export interface ProviderLookup {
  find: FindProvider;
  /** can a provider of this type serve a model of this type? */
  serves(providerType: string, modelType: ModelRow['type']): boolean;
}

export async function findModel(tx: DbOrTx, orgId: string, id: string): Promise<ModelRow> {
  const [row] = await tx
    .select()
    .from(models)
    .where(and(eq(models.id, id), eq(models.orgId, orgId)));
  if (!row) throw notFound('model');
  return row;
}

export function versionsOf(tx: DbOrTx, modelId: string): Promise<VersionRow[]> {
  return tx
    .select()
    .from(modelVersions)
    .where(eq(modelVersions.modelId, modelId))
    .orderBy(asc(modelVersions.createdAt), asc(modelVersions.id));
}

/** Serialises registry writes of one org, so name and alias checks cannot race. */
export async function lockOrg(tx: DbOrTx, orgId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`registry:${orgId}`}))`);
}

/** Every target must name a provider of the org that can serve the model's type. */
export async function checkTargets(
  tx: DbOrTx,
  orgId: string,
  providers: ProviderLookup,
  modelType: ModelRow['type'],
  targets: (TargetInput & { endpoint_group?: string })[],
): Promise<ModelTarget[]> {
  for (const id of new Set(targets.map((t) => t.provider_id))) {
    let provider: { type: string };
    try {
      provider = await providers.find(tx, orgId, id);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) {
        throw new AppError('unprocessable', `provider ${id} not found in this org`, { provider_id: id });
      }
      throw err;
    }
    if (!providers.serves(provider.type, modelType)) {
      throw new AppError(
        'unprocessable',
        `provider ${id} (${provider.type}) cannot serve ${modelType} models`,
        { provider_id: id },
      );
    }
  }
  const seen = new Set<string>();
  for (const t of targets) {
    const key = `${t.provider_id}\u0000${t.upstream_model}\u0000${t.endpoint_group ?? ''}`;
    if (seen.has(key))
      throw new AppError('unprocessable', `target ${t.provider_id}/${t.upstream_model} is listed twice`);
    seen.add(key);
  }
  return targets.map((t) => ({
    provider_id: t.provider_id,
    upstream_model: t.upstream_model,
    weight: t.weight ?? 1,
    priority: t.priority ?? 0,
    ...(t.endpoint_group !== undefined ? { endpoint_group: t.endpoint_group } : {}),
  }));
}

/** Every accepted share (or one model's), with the owner's slug: what the model cache namespaces shared models by. */
export function acceptedShares(tx: DbOrTx, modelId?: string): Promise<AcceptedShare[]> {
  return tx
    .select({
      modelId: modelShares.modelId,
      consumerOrgId: modelShares.consumerOrgId,
      ownerSlug: orgs.slug,
    })
    .from(modelShares)
    .innerJoin(orgs, eq(orgs.id, modelShares.ownerOrgId))
    .where(and(eq(modelShares.status, 'accepted'), modelId ? eq(modelShares.modelId, modelId) : undefined));
}

/** The names (`<owner-slug>/<name>`) under which an org reaches the models shared with it. */
export async function sharedNamesOf(tx: DbOrTx, orgId: string): Promise<string[]> {
  const rows = await tx
    .select({ slug: orgs.slug, name: models.name })
    .from(modelShares)
    .innerJoin(models, eq(models.id, modelShares.modelId))
    .innerJoin(orgs, eq(orgs.id, modelShares.ownerOrgId))
    .where(and(eq(modelShares.consumerOrgId, orgId), eq(modelShares.status, 'accepted')));
  return rows.map((r) => `${r.slug}/${r.name}`);
}

/**
 * A model's name and aliases must not name another model of the org, nor a model shared with it
 * (`<owner-slug>/<name>` of a share it accepted).
 */
export async function checkNames(
  tx: DbOrTx,
  orgId: string,
  names: string[],
  exceptId: string | null,
): Promise<void> {
  if (new Set(names).size !== names.length)
    throw new AppError('unprocessable', 'a name or alias is listed twice');
  const rows = await tx
    .select({ id: models.id, name: models.name, aliases: models.aliases })
    .from(models)
    .where(eq(models.orgId, orgId));
  for (const row of rows) {
    if (row.id === exceptId) continue;
    const taken = [row.name, ...row.aliases].find((n) => names.includes(n));
    if (taken) throw conflict(`"${taken}" already names model ${row.name}`);
  }
  const shared = await sharedNamesOf(tx, orgId);
  const taken = names.find((n) => shared.includes(n));
  if (taken) throw conflict(`"${taken}" names a model shared with your org`);
}

export function normalizeFallbacks(input: FallbackInput[], selfNames: string[]): ModelRow['fallbacks'] {
  const out = input.map((f) =>
    typeof f === 'string' ? { model: f } : f.on ? { model: f.model, on: f.on } : { model: f.model },
  );
  const self = out.find((f) => selfNames.includes(f.model));
  if (self) throw new AppError('unprocessable', `a model cannot fall back to itself (${self.model})`);
  return out;
}

/** Names of the models whose versions target a provider. */
export async function modelsUsingProvider(tx: DbOrTx, providerId: string): Promise<string[]> {
  const rows = await tx
    .selectDistinct({ name: models.name })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(sql`${modelVersions.targets} @> ${JSON.stringify([{ provider_id: providerId }])}::jsonb`);
  return rows.map((r) => r.name);
}
