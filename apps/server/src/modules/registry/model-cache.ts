import { FALLBACK_CLASSES, type FallbackClass, type ModelRow, type VersionRow } from './dto.ts';
import type { ModelPricing } from './schema.ts';

/**
 * One (provider, upstream model) a version routes to. A target on a fleet deployment's provider
 * becomes one route target per endpoint (replica): `runtime` names the endpoint's connection in the
 * provider cache and `key` its circuit breaker.
 */
export interface RouteTarget {
  providerId: string;
  /** the provider cache key of the connection to use: the provider id, or `<provider id>#<endpoint id>` */
  runtime: string;
  upstreamModel: string;
  weight: number;
  priority: number;
  key: string;
}

/** A fleet deployment provider's endpoints (cache key and group); undefined for any other provider. */
export type EndpointLookup = (providerId: string) => readonly { key: string; group: string }[] | undefined;

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

export const targetKey = (runtime: string, upstreamModel: string) => `${runtime}\u0000${upstreamModel}`;

function compileVersion(v: VersionRow, endpointsOf: EndpointLookup): CompiledVersion {
  const byPriority = new Map<number, RouteTarget[]>();
  const add = (target: RouteTarget) => {
    const tier = byPriority.get(target.priority);
    if (tier) tier.push(target);
    else byPriority.set(target.priority, [target]);
  };
  for (const t of v.targets) {
    const base = {
      providerId: t.provider_id,
      upstreamModel: t.upstream_model,
      weight: t.weight ?? 1,
      priority: t.priority ?? 0,
    };
    const endpoints = endpointsOf(t.provider_id);
    if (!endpoints) {
      add({ ...base, runtime: t.provider_id, key: targetKey(t.provider_id, t.upstream_model) });
      continue;
    }
    for (const ep of endpoints)
      if (t.endpoint_group === undefined || ep.group === t.endpoint_group)
        add({ ...base, runtime: ep.key, key: targetKey(ep.key, t.upstream_model) });
  }
  const tiers = [...byPriority.entries()].sort((a, b) => a[0] - b[0]).map(([, list]) => list);
  return { id: v.id, version: v.version, weight: v.trafficWeight, tiers, pricing: v.pricing ?? null };
}

export function compileModel(
  m: ModelRow,
  versions: VersionRow[],
  endpointsOf: EndpointLookup = () => undefined,
): CompiledModel {
  const live = versions
    .filter((v) => v.trafficWeight > 0 && v.targets.length > 0)
    .map((v) => compileVersion(v, endpointsOf));
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

/** What the cache holds of one model: its rows and the shares accepted of it. */
export interface ModelEntry {
  model: ModelRow;
  versions: VersionRow[];
  shares: AcceptedShare[];
}

/**
 * Every model of every org, compiled for the gateway and indexed by the names each org can use:
 * its own names and aliases first, then `<owner-slug>/<name>` of each share it accepted. An org's
 * own name always wins: a shared model whose namespaced name the org uses itself is not reachable.
 *
 * Changes apply per model (`upsert`, or `stage` several then `flush`) or per provider (`providerChanged`: its endpoints moved): only
 * the models concerned are compiled again, and only the name tables of the orgs that see them.
 */
export function createModelCache(endpointsOf: EndpointLookup = () => undefined) {
  const rows = new Map<string, { model: ModelRow; versions: VersionRow[] }>();
  /** accepted shares by model */
  const sharesOf = new Map<string, AcceptedShare[]>();
  const byId = new Map<string, CompiledModel>();
  const byOrg = new Map<string, Map<string, CompiledModel>>();
  const modelsOfOrg = new Map<string, Set<string>>();
  /** provider id → the models whose versions target it */
  const usersOf = new Map<string, Set<string>>();

  const addTo = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
    const set = map.get(key);
    if (set) set.add(value);
    else map.set(key, new Set([value]));
  };
  const removeFrom = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
    const set = map.get(key);
    if (!set) return;
    set.delete(value);
    if (set.size === 0) map.delete(key);
  };
  const providersOf = (versions: VersionRow[]) =>
    new Set(versions.flatMap((v) => v.targets.map((t) => t.provider_id)));

  /** Stores one model's rows (null: it is gone) and compiles it; returns the org it belongs to. */
  function store(id: string, entry: { model: ModelRow; versions: VersionRow[] } | null): string | undefined {
    const old = rows.get(id);
    if (old) {
      removeFrom(modelsOfOrg, old.model.orgId, id);
      for (const p of providersOf(old.versions)) removeFrom(usersOf, p, id);
    }
    if (!entry) {
      rows.delete(id);
      byId.delete(id);
      return old?.model.orgId;
    }
    rows.set(id, entry);
    addTo(modelsOfOrg, entry.model.orgId, id);
    for (const p of providersOf(entry.versions)) addTo(usersOf, p, id);
    byId.set(id, compileModel(entry.model, entry.versions, endpointsOf));
    return entry.model.orgId;
  }

  /** The orgs whose name tables show a model of `ownerOrgId` (the owner, and every org that accepted one of its models). */
  function orgsSeeing(ownerOrgId: string, into: Set<string>): void {
    into.add(ownerOrgId);
    for (const id of modelsOfOrg.get(ownerOrgId) ?? [])
      for (const share of sharesOf.get(id) ?? []) into.add(share.consumerOrgId);
  }

  /** Rebuilds the name tables of some orgs: own names, then aliases, then accepted shares. */
  function index(orgIds: Iterable<string>): void {
    const orgs = [...orgIds];
    const addIfFree = (map: Map<string, CompiledModel>, name: string, m: CompiledModel) => {
      if (!map.has(name)) map.set(name, m);
    };
    for (const orgId of orgs) {
      const own = [...(modelsOfOrg.get(orgId) ?? [])].map((id) => byId.get(id)!);
      const map = new Map<string, CompiledModel>();
      for (const m of own) map.set(m.name, m);
      for (const m of own) for (const a of m.aliases) addIfFree(map, a, m);
      if (map.size > 0) byOrg.set(orgId, map);
      else byOrg.delete(orgId);
    }
    // every own name and alias is in place by now, so a shared view never takes one
    const wanted = new Set(orgs);
    for (const [modelId, shares] of sharesOf) {
      const m = byId.get(modelId);
      if (!m) continue;
      for (const share of shares) {
        if (!wanted.has(share.consumerOrgId) || m.orgId === share.consumerOrgId) continue;
        let map = byOrg.get(share.consumerOrgId);
        if (!map) {
          map = new Map();
          byOrg.set(share.consumerOrgId, map);
        }
        addIfFree(map, `${share.ownerSlug}/${m.name}`, sharedView(m, share, byOrg.get(m.orgId)));
      }
    }
  }

  /** orgs whose name tables wait for `flush` */
  const dirty = new Set<string>();

  /** Applies one model's rows and accepted shares (null: it is gone); its orgs are indexed at `flush`. */
  function stage(id: string, entry: ModelEntry | null): void {
    const before = rows.get(id);
    if (before) orgsSeeing(before.model.orgId, dirty);
    for (const s of sharesOf.get(id) ?? []) dirty.add(s.consumerOrgId);
    store(id, entry && { model: entry.model, versions: entry.versions });
    if (entry && entry.shares.length > 0) sharesOf.set(id, entry.shares);
    else sharesOf.delete(id);
    if (entry) orgsSeeing(entry.model.orgId, dirty);
  }

  function flush(): void {
    index(dirty);
    dirty.clear();
  }

  return {
    stage,
    flush,

    /** Replaces everything. */
    replace(models: ModelRow[], versions: VersionRow[], shares: AcceptedShare[] = []): void {
      const versionsOf = new Map<string, VersionRow[]>();
      for (const v of versions) {
        const list = versionsOf.get(v.modelId);
        if (list) list.push(v);
        else versionsOf.set(v.modelId, [v]);
      }
      const sharesByModel = new Map<string, AcceptedShare[]>();
      for (const s of shares) {
        const list = sharesByModel.get(s.modelId);
        if (list) list.push(s);
        else sharesByModel.set(s.modelId, [s]);
      }
      for (const id of [...rows.keys()]) stage(id, null);
      for (const m of models)
        stage(m.id, {
          model: m,
          versions: versionsOf.get(m.id) ?? [],
          shares: sharesByModel.get(m.id) ?? [],
        });
      flush();
    },

    /** Applies the current rows of one model and its accepted shares (model null: it is gone). */
    upsert(id: string, model: ModelRow | null, versions: VersionRow[], shares: AcceptedShare[]): void {
      stage(id, model ? { model, versions, shares } : null);
      flush();
    },

    /** A provider's endpoints changed: the models that target it are compiled again. */
    providerChanged(providerId: string): void {
      const ids = [...(usersOf.get(providerId) ?? [])];
      if (ids.length === 0) return;
      const affected = new Set<string>();
      for (const id of ids) {
        const entry = rows.get(id);
        if (!entry) continue;
        byId.set(id, compileModel(entry.model, entry.versions, endpointsOf));
        orgsSeeing(entry.model.orgId, affected);
      }
      index(affected);
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
      const out = new Set<string>();
      for (const id of usersOf.get(providerId) ?? [])
        for (const v of rows.get(id)?.versions ?? [])
          for (const t of v.targets) if (t.provider_id === providerId) out.add(t.upstream_model);
      return [...out];
    },

    get size(): number {
      return byId.size;
    },
  };
}

export type ModelCache = ReturnType<typeof createModelCache>;
