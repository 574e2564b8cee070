import type { ApiClient } from './api-client.ts';
import type { LimitSpec, Manifest, ProviderSpec } from './manifest.ts';
import { planDeployment, planProject } from './plan-fleet.ts';
import { planModel } from './plan-models.ts';
import { canonical, compare, type FieldChange, LIMIT_FIELDS, type State, type Step } from './plan-types.ts';
import { pick, refs } from './resolve.ts';

export interface PlanOptions {
  /** delete providers, models and limits the file does not name */
  prune?: boolean;
  /** re-send every secret named in the file (the server never returns them, so it cannot compare) */
  updateSecrets?: boolean;
}

export interface Plan {
  steps: Step[];
  /** environment variables the file names that are not set (an apply refuses to start) */
  missingEnv: string[];
}

export async function loadState(api: ApiClient): Promise<State> {
  const [me, providers, models, limits, keys, projects, deployments] = await Promise.all([
    api.request('GET', '/api/v1/me'),
    api.list(refs.provider.path),
    api.list(refs.model.path),
    api.list(refs.limit.path),
    api.list(refs.key.path),
    api.list(refs.project.path),
    api.list('/api/v1/deployments'),
  ]);
  return { orgId: me.org.id, providers, models, limits, keys, projects, deployments };
}

function secretBody(spec: ProviderSpec, missing: string[]) {
  const read = (name: string) => {
    const value = process.env[name];
    if (!value) missing.push(name);
    return value ?? '';
  };
  return {
    apiKey: () => (spec.api_key_env ? read(spec.api_key_env) : undefined),
    headers: () =>
      spec.headers_env
        ? Object.fromEntries(Object.entries(spec.headers_env).map(([h, env]) => [h, read(env)]))
        : undefined,
  };
}

function planProvider(spec: ProviderSpec, state: State, opts: PlanOptions, missing: string[]): Step {
  const current = state.providers.find((p) => p.name === spec.name);
  const secrets = secretBody(spec, missing);
  if (!current) {
    const apiKey = secrets.apiKey();
    const headers = secrets.headers();
    const changes: FieldChange[] = [
      { field: 'type', from: null, to: spec.type },
      { field: 'base_url', from: null, to: spec.base_url },
      ...(spec.api_key_env ? [{ field: 'api_key', from: null, to: `$${spec.api_key_env}` }] : []),
      ...(spec.headers_env ? [{ field: 'headers', from: null, to: Object.keys(spec.headers_env) }] : []),
    ];
    return {
      action: 'create',
      kind: 'provider',
      name: spec.name,
      changes,
      async run(ctx) {
        const body = {
          name: spec.name,
          type: spec.type,
          base_url: spec.base_url,
          api_key: apiKey,
          headers,
          timeout_ms: spec.timeout_ms,
          max_connections: spec.max_connections,
        };
        const created = await ctx.api.request('POST', refs.provider.path, {
          body: JSON.parse(canonical(body)),
        });
        ctx.providerIds.set(spec.name, created.id);
      },
    };
  }
  const changes: FieldChange[] = [];
  const body: Record<string, unknown> = {};
  for (const [field, to] of [
    ['type', spec.type],
    ['base_url', spec.base_url],
    ['timeout_ms', spec.timeout_ms],
    ['max_connections', spec.max_connections],
  ] as const)
    if (compare(changes, field, current[field], to)) body[field] = to;
  if (spec.api_key_env && (opts.updateSecrets || !current.has_api_key)) {
    changes.push({
      field: 'api_key',
      from: current.has_api_key ? '(stored)' : null,
      to: `$${spec.api_key_env}`,
    });
    body.api_key = secrets.apiKey();
  }
  const headerNames = Object.keys(spec.headers_env ?? {}).sort();
  const haveNames = [...(current.header_names ?? [])].sort();
  if (
    spec.headers_env &&
    (opts.updateSecrets ||
      canonical(headerNames.map((h) => h.toLowerCase())) !==
        canonical(haveNames.map((h: string) => h.toLowerCase())))
  ) {
    changes.push({ field: 'headers', from: haveNames, to: headerNames });
    body.headers = secrets.headers();
  }
  return {
    action: changes.length ? 'update' : 'unchanged',
    kind: 'provider',
    name: spec.name,
    changes,
    async run(ctx) {
      await ctx.api.request('PATCH', '/api/v1/providers/{id}', { params: { id: current.id }, body });
    },
  };
}

/** The limit's subject as the server names it: scope, scope id, and a label for people. */
function subjectOf(spec: LimitSpec, state: State) {
  const model = spec.model ?? null;
  const suffix = model ? ` model ${model}` : '';
  if (spec.key) {
    const key = pick(
      refs.key,
      state.keys.filter((k) => k.status !== 'revoked'),
      spec.key,
    );
    return { scope: 'key', scope_id: key.id, model, label: `key ${spec.key}${suffix}` };
  }
  if (spec.project) {
    const project = pick(refs.project, state.projects, spec.project);
    return { scope: 'project', scope_id: project.id, model, label: `project ${spec.project}${suffix}` };
  }
  return { scope: 'org', scope_id: state.orgId, model, label: `org${suffix}` };
}

function planLimit(spec: LimitSpec, state: State): Step & { matched?: string } {
  const subject = subjectOf(spec, state);
  const current = state.limits.find(
    (l) =>
      l.scope === subject.scope && l.scope_id === subject.scope_id && (l.model ?? null) === subject.model,
  );
  const fields = Object.fromEntries(
    LIMIT_FIELDS.filter((f) => spec[f] !== undefined).map((f) => [f, spec[f]]),
  );
  if (!current) {
    return {
      action: 'create',
      kind: 'limit',
      name: subject.label,
      changes: Object.entries(fields).map(([field, to]) => ({ field, from: null, to })),
      async run(ctx) {
        const body = {
          scope: subject.scope,
          ...(subject.scope === 'org' ? {} : { scope_id: subject.scope_id }),
          ...(subject.model ? { model: subject.model } : {}),
          ...fields,
        };
        await ctx.api.request('POST', refs.limit.path, { body });
      },
    };
  }
  const changes: FieldChange[] = [];
  const body: Record<string, unknown> = {};
  for (const [field, to] of Object.entries(fields))
    if (compare(changes, field, current[field as (typeof LIMIT_FIELDS)[number]], to)) body[field] = to;
  return {
    action: changes.length ? 'update' : 'unchanged',
    kind: 'limit',
    name: subject.label,
    matched: current.id,
    changes,
    async run(ctx) {
      await ctx.api.request('PATCH', '/api/v1/limits/{id}', { params: { id: current.id }, body });
    },
  };
}

type DeletePath =
  | '/api/v1/limits/{id}'
  | '/api/v1/deployments/{id}'
  | '/api/v1/models/{id}'
  | '/api/v1/providers/{id}';

const deletion = (kind: Step['kind'], name: string, path: DeletePath, id: string): Step => ({
  action: 'delete',
  kind,
  name,
  changes: [],
  async run(ctx) {
    await ctx.api.request('DELETE', path, { params: { id } });
  },
});

/** Compares the file with the server: the steps that would make the server match the file. */
export function buildPlan(manifest: Manifest, state: State, opts: PlanOptions = {}): Plan {
  const missingEnv: string[] = [];
  const fileProviders = manifest.providers.map((p) => p.name);
  const steps: Step[] = [
    ...manifest.projects.map((p) => planProject(p, state)),
    ...manifest.providers.map((p) => planProvider(p, state, opts, missingEnv)),
    ...manifest.models.map((m) => planModel(m, state, fileProviders)),
    ...manifest.deployments.map((d) => planDeployment(d, state)),
  ];
  const limitSteps = manifest.limits.map((l) => planLimit(l, state));
  steps.push(...limitSteps);
  if (opts.prune) {
    const keep = new Set(limitSteps.map((s) => s.matched).filter(Boolean));
    const names = new Map([...state.keys, ...state.projects].map((r) => [r.id, r.name as string]));
    for (const l of state.limits) {
      const subject = l.scope === 'org' ? 'org' : `${l.scope} ${names.get(l.scope_id) ?? l.scope_id}`;
      if (!keep.has(l.id))
        steps.push(
          deletion('limit', `${subject}${l.model ? ` model ${l.model}` : ''}`, '/api/v1/limits/{id}', l.id),
        );
    }
    const deployments = new Set(manifest.deployments.map((d) => d.name));
    for (const d of state.deployments)
      if (!deployments.has(d.name) && d.status === 'active')
        steps.push(deletion('deployment', d.name, '/api/v1/deployments/{id}', d.id));
    // a deployment's registry model comes and goes with the deployment
    const models = new Set([...manifest.models.map((m) => m.name), ...state.deployments.map((d) => d.name)]);
    for (const m of state.models)
      if (!models.has(m.name)) steps.push(deletion('model', m.name, '/api/v1/models/{id}', m.id));
    const providers = new Set(fileProviders);
    // providers the fleet manages (one per replica) come and go with their deployment
    for (const p of state.providers)
      if (!providers.has(p.name) && !p.managed_by)
        steps.push(deletion('provider', p.name, '/api/v1/providers/{id}', p.id));
  }
  return { steps, missingEnv: [...new Set(missingEnv)] };
}
