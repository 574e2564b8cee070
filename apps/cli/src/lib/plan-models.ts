import { usageError } from './errors.ts';
import type { ModelSpec, VersionSpec } from './manifest.ts';
import { type ApplyContext, compare, type FieldChange, type State, type Step, same } from './plan-types.ts';

const MODELS = '/api/v1/models';
const MODEL = '/api/v1/models/{id}';

/** Targets as names for comparison: `{provider, upstream_model, weight, priority}`. */
type NamedTarget = { provider: string; upstream_model: string; weight: number; priority: number };

function providerNames(state: State, fileProviders: string[]) {
  const byId = new Map(state.providers.map((p) => [p.id, p.name as string]));
  const known = new Set([...state.providers.map((p) => p.name as string), ...fileProviders]);
  return {
    /** a file target's provider (a name, or an id of an existing provider) as a name */
    nameOf(model: string, ref: string): string {
      if (known.has(ref)) return ref;
      const byIdName = byId.get(ref);
      if (byIdName) return byIdName;
      throw usageError(`model ${model}: provider "${ref}" is neither in the file nor on the server`);
    },
    fromServer: (id: string) => byId.get(id) ?? id,
  };
}

const pricingOf = (p: VersionSpec['pricing'] | undefined) =>
  p ? { ...p, currency: p.currency ?? 'USD' } : p;

const fallbacksOf = (f: ModelSpec['fallbacks']) => f?.map((x) => (typeof x === 'string' ? { model: x } : x));

function toTargets(ctx: ApplyContext, targets: NamedTarget[]) {
  return targets.map((t) => {
    const id = ctx.providerIds.get(t.provider);
    if (!id) throw new Error(`provider ${t.provider} has no id`);
    return { provider_id: id, upstream_model: t.upstream_model, weight: t.weight, priority: t.priority };
  });
}

/** The model's top-level fields that the file sets and the server holds differently. */
function modelFieldChanges(
  spec: ModelSpec,
  current: State['models'][number],
): { changes: FieldChange[]; body: Record<string, unknown> } {
  const changes: FieldChange[] = [];
  const body: Record<string, unknown> = {};
  const fields: [string, unknown, unknown][] = [
    ['aliases', current.aliases, spec.aliases],
    ['description', current.description, spec.description],
    ['context_length', current.context_length, spec.context_length],
    ['default_params', current.default_params, spec.default_params],
    ['fallbacks', current.fallbacks, fallbacksOf(spec.fallbacks)],
    ['access', current.access, spec.access],
    ['status', current.status, spec.status],
  ];
  for (const [field, from, to] of fields) if (compare(changes, field, from, to)) body[field] = to;
  return { changes, body };
}

/** Plans one model: create it, or bring its fields, versions and traffic to the file's. */
export function planModel(spec: ModelSpec, state: State, fileProviders: string[]): Step {
  const names = providerNames(state, fileProviders);
  const versions = spec.versions.map((v) => ({
    ...v,
    targets: v.targets.map((t) => ({ ...t, provider: names.nameOf(spec.name, t.provider) })),
  }));
  const desiredTraffic = Object.fromEntries(versions.map((v) => [v.version, v.weight]));
  const current = state.models.find((m) => m.name === spec.name);

  if (!current) {
    const base = versions.find((v) => v.version === '1') ?? versions[0]!;
    const rest = versions.filter((v) => v.version !== '1');
    const changes: FieldChange[] = [
      { field: 'type', from: null, to: spec.type },
      ...versions.map((v) => ({
        field: `version ${v.version}`,
        from: null,
        to: v.targets.map((t) => `${t.provider}=${t.upstream_model}`).join(', '),
      })),
      { field: 'traffic', from: null, to: desiredTraffic },
    ];
    return {
      action: 'create',
      kind: 'model',
      name: spec.name,
      changes,
      async run(ctx) {
        const pricing = pricingOf(base.pricing);
        const created = await ctx.api.request('POST', MODELS, {
          body: {
            name: spec.name,
            type: spec.type,
            targets: toTargets(ctx, base.targets),
            ...(pricing ? { pricing } : {}),
            ...(spec.aliases ? { aliases: spec.aliases } : {}),
            ...(spec.description ? { description: spec.description } : {}),
            ...(spec.context_length ? { context_length: spec.context_length } : {}),
            ...(spec.default_params ? { default_params: spec.default_params } : {}),
            ...(spec.fallbacks ? { fallbacks: spec.fallbacks } : {}),
            ...(spec.access ? { access: spec.access } : {}),
          },
        });
        for (const v of rest) await createVersion(ctx, created.id, v);
        if (spec.status && spec.status !== 'active')
          await ctx.api.request('PATCH', MODEL, {
            params: { id: created.id },
            body: { status: spec.status },
          });
        const after: Record<string, number> = {
          ...created.traffic,
          ...Object.fromEntries(rest.map((v) => [v.version, 0])),
        };
        const want = { ...Object.fromEntries(Object.keys(after).map((k) => [k, 0])), ...desiredTraffic };
        if (!same(after, want))
          await ctx.api.request('PUT', `${MODEL}/traffic`, {
            params: { id: created.id },
            body: { weights: desiredTraffic },
          });
      },
    };
  }

  if (current.type !== spec.type)
    throw usageError(
      `model ${spec.name} is a ${current.type} model; its type cannot change (delete it first)`,
    );
  const { changes, body } = modelFieldChanges(spec, current);
  const newVersions: typeof versions = [];
  const changedVersions: { v: (typeof versions)[number]; body: Record<string, unknown> }[] = [];
  for (const v of versions) {
    const have = current.versions.find((x) => x.version === v.version);
    if (!have) {
      newVersions.push(v);
      changes.push({
        field: `version ${v.version}`,
        from: null,
        to: v.targets.map((t) => `${t.provider}=${t.upstream_model}`).join(', '),
      });
      continue;
    }
    const vb: Record<string, unknown> = {};
    const haveTargets = have.targets.map((t) => ({
      ...t,
      provider: names.fromServer(t.provider_id),
      provider_id: undefined,
    }));
    if (compare(changes, `version ${v.version} targets`, haveTargets, v.targets)) vb.targets = v.targets;
    if (compare(changes, `version ${v.version} pricing`, have.pricing, pricingOf(v.pricing)))
      vb.pricing = pricingOf(v.pricing);
    if (Object.keys(vb).length) changedVersions.push({ v, body: vb });
  }
  const traffic = {
    ...Object.fromEntries(Object.keys(current.traffic).map((k) => [k, 0])),
    ...desiredTraffic,
  };
  const trafficChanged = compare(changes, 'traffic', current.traffic, traffic);

  return {
    action: changes.length ? 'update' : 'unchanged',
    kind: 'model',
    name: spec.name,
    changes,
    async run(ctx) {
      const params = { id: current.id };
      if (Object.keys(body).length) await ctx.api.request('PATCH', MODEL, { params, body });
      for (const v of newVersions) await createVersion(ctx, current.id, v);
      for (const { v, body: vb } of changedVersions) {
        const patch = { ...vb, ...(vb.targets ? { targets: toTargets(ctx, v.targets) } : {}) };
        await ctx.api.request('PATCH', `${MODEL}/versions/{version}`, {
          params: { ...params, version: v.version },
          body: patch,
        });
      }
      if (trafficChanged)
        await ctx.api.request('PUT', `${MODEL}/traffic`, { params, body: { weights: desiredTraffic } });
    },
  };
}

async function createVersion(
  ctx: ApplyContext,
  modelId: string,
  v: VersionSpec & { targets: NamedTarget[] },
) {
  const pricing = pricingOf(v.pricing);
  await ctx.api.request('POST', `${MODEL}/versions`, {
    params: { id: modelId },
    body: {
      version: v.version,
      targets: toTargets(ctx, v.targets),
      traffic_weight: 0,
      ...(pricing ? { pricing } : {}),
    },
  });
}
