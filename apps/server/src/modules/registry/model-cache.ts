import { FALLBACK_CLASSES, type FallbackClass, type ModelRow, type VersionRow } from './dto.ts';
import type { ModelPricing } from './schema.ts';

/** One (provider, upstream model) a version routes to. `key` names its circuit breaker. */
export interface RouteTarget {
  providerId: string;
  upstreamModel: string;
  weight: number;
  priority: number;
  key: string;
}

export interface CompiledVersion {
  id: string;
  version: string;
  weight: number;
  /** targets grouped by priority, lowest priority number first */
  tiers: RouteTarget[][];
  pricing: ModelPricing | null;
}

export interface CompiledModel {
  id: string;
  /** the org that owns the model (and its providers) */
  orgId: string;
  /** as the org that sees it names it: its own name, or `<owner-slug>/<name>` when shared with it */
  name: string;
  /** the org a shared view was accepted by; null for the owner's own model */
  sharedWith: string | null;
  /** /v1/models `owned_by`: the owner's id for its own models, the owner's slug for a shared one */
  ownedBy: string;
  type: ModelRow['type'];
  aliases: string[];
  status: ModelRow['status'];
  contextLength: number | null;
  /** null when there are none (the common case: nothing to merge) */
  defaultParams: Record<string, unknown> | null;
  accessProjects: ReadonlySet<string> | null;
  fallbacks: { model: string; on: ReadonlySet<FallbackClass> }[];
  /** versions with traffic, and the sum of their weights */
  versions: CompiledVersion[];
  totalWeight: number;
  /** unix seconds */
  created: number;
}

export const targetKey = (providerId: string, upstreamModel: string) => `${providerId}\u0000${upstreamModel}`;

function compileVersion(v: VersionRow): CompiledVersion {
  const byPriority = new Map<number, RouteTarget[]>();
  for (const t of v.targets) {
    const target: RouteTarget = {
      providerId: t.provider_id,
      upstreamModel: t.upstream_model,
      weight: t.weight ?? 1,
      priority: t.priority ?? 0,
      key: targetKey(t.provider_id, t.upstream_model),
    };
    const tier = byPriority.get(target.priority);
    if (tier) tier.push(target);
    else byPriority.set(target.priority, [target]);
  }
  const tiers = [...byPriority.entries()].sort((a, b) => a[0] - b[0]).map(([, list]) => list);
  return { id: v.id, version: v.version, weight: v.trafficWeight, tiers, pricing: v.pricing ?? null };
}

export function compileModel(m: ModelRow, versions: VersionRow[]): CompiledModel {
  const live = versions.filter((v) => v.trafficWeight > 0 && v.targets.length > 0).map(compileVersion);
  return {
    id: m.id,
    orgId: m.orgId,
    name: m.name,
    sharedWith: null,
    ownedBy: m.orgId,
    type: m.type,
    aliases: m.aliases,
    status: m.status,
    contextLength: m.contextLength,
    defaultParams: Object.keys(m.defaultParams ?? {}).length > 0 ? m.defaultParams : null,
    accessProjects: m.access.projects?.length ? new Set(m.access.projects) : null,
    fallbacks: m.fallbacks.map((f) => ({
      model: f.model,
      on: new Set((f.on ?? FALLBACK_CLASSES) as FallbackClass[]),
    })),
    versions: live,
    totalWeight: live.reduce((sum, v) => sum + v.weight, 0),
    created: Math.floor(m.createdAt.getTime() / 1000),
  };
}

/** A share some org accepted: the model, who accepted it, and the owner's slug (the namespace). */
export interface AcceptedShare {
  modelId: string;
  consumerOrgId: string;
  ownerSlug: string;
}

/**
 * The model as the accepting org sees it: named `<owner-slug>/<name>`, no aliases, open to all its
 * projects; its fallbacks are the owner's models under their shared names (usable only where the
 * consumer accepted those too). Versions and targets are the owner's, by reference.
 */
function sharedView(
  m: CompiledModel,
  share: AcceptedShare,
  ownerNames: Map<string, CompiledModel> | undefined,
): CompiledModel {
  const fallbacks: CompiledModel['fallbacks'] = [];
  for (const f of m.fallbacks) {
    const target = ownerNames?.get(f.model);
    if (target && target.sharedWith === null)
      fallbacks.push({ model: `${share.ownerSlug}/${target.name}`, on: f.on });
  }
  return {
    ...m,
    name: `${share.ownerSlug}/${m.name}`,
    sharedWith: share.consumerOrgId,
    ownedBy: share.ownerSlug,
    aliases: [],
    accessProjects: null,
    fallbacks,
  };
}

/**
 * Every model of every org, compiled for the gateway and indexed by the names each org can use:
 * its own names and aliases first, then `<owner-slug>/<name>` of each share it accepted. An org's
 * own name always wins: a shared model whose namespaced name the org uses itself is not reachable.
 */
export function createModelCache() {
  let byOrg = new Map<string, Map<string, CompiledModel>>();
  let byId = new Map<string, CompiledModel>();
  let providerTargets = new Map<string, Set<string>>();

  return {
    replace(models: ModelRow[], versions: VersionRow[], shares: AcceptedShare[] = []): void {
      const versionsOf = new Map<string, VersionRow[]>();
      for (const v of versions) {
        const list = versionsOf.get(v.modelId);
        if (list) list.push(v);
        else versionsOf.set(v.modelId, [v]);
      }
      const nextById = new Map<string, CompiledModel>();
      const nextByOrg = new Map<string, Map<string, CompiledModel>>();
      const nextTargets = new Map<string, Set<string>>();
      const names = (orgId: string) => {
        let map = nextByOrg.get(orgId);
        if (!map) {
          map = new Map();
          nextByOrg.set(orgId, map);
        }
        return map;
      };
      const compiled = models.map((m) => compileModel(m, versionsOf.get(m.id) ?? []));
      for (const m of compiled) {
        nextById.set(m.id, m);
        names(m.orgId).set(m.name, m);
      }
      const addIfFree = (map: Map<string, CompiledModel>, name: string, m: CompiledModel) => {
        if (!map.has(name)) map.set(name, m);
      };
      for (const m of compiled) for (const a of m.aliases) addIfFree(names(m.orgId), a, m);
      // every own name and alias is in place by now, so a shared view never takes one
      for (const share of shares) {
        const m = nextById.get(share.modelId);
        if (!m || m.orgId === share.consumerOrgId) continue;
        const view = sharedView(m, share, nextByOrg.get(m.orgId));
        addIfFree(names(share.consumerOrgId), view.name, view);
      }
      for (const v of versions) {
        for (const t of v.targets) {
          let set = nextTargets.get(t.provider_id);
          if (!set) {
            set = new Set();
            nextTargets.set(t.provider_id, set);
          }
          set.add(t.upstream_model);
        }
      }
      byOrg = nextByOrg;
      byId = nextById;
      providerTargets = nextTargets;
    },

    /** by name or alias as seen by `orgId`, or by the id of one of its own models */
    lookup(orgId: string, name: string): CompiledModel | undefined {
      const named = byOrg.get(orgId)?.get(name);
      if (named !== undefined) return named;
      const own = byId.get(name);
      return own !== undefined && own.orgId === orgId ? own : undefined;
    },

    /** every model `orgId` can name (each once) */
    visibleTo(orgId: string): CompiledModel[] {
      const map = byOrg.get(orgId);
      return map ? [...new Set(map.values())] : [];
    },

    /** upstream models the registry routes to on a provider */
    upstreamModelsOf(providerId: string): string[] {
      return [...(providerTargets.get(providerId) ?? [])];
    },

    get size(): number {
      return byId.size;
    },
  };
}

export type ModelCache = ReturnType<typeof createModelCache>;
