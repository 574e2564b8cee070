import type { DeploymentSpec, ProjectSpec } from './manifest.ts';
import { compare, type FieldChange, type State, type Step } from './plan-types.ts';

const PROJECTS = '/api/v1/projects';
const DEPLOYMENTS = '/api/v1/deployments';

/** A project is matched by name; its description follows the file when the file gives one. */
export function planProject(spec: ProjectSpec, state: State): Step {
  const current = state.projects.find((p) => p.name === spec.name);
  if (!current) {
    return {
      action: 'create',
      kind: 'project',
      name: spec.name,
      changes: spec.description ? [{ field: 'description', from: null, to: spec.description }] : [],
      async run(ctx) {
        await ctx.api.request('POST', PROJECTS, {
          body: { name: spec.name, ...(spec.description ? { description: spec.description } : {}) },
        });
      },
    };
  }
  const changes: FieldChange[] = [];
  compare(changes, 'description', current.description, spec.description);
  return {
    action: changes.length ? 'update' : 'unchanged',
    kind: 'project',
    name: spec.name,
    changes,
    async run(ctx) {
      await ctx.api.request('PATCH', '/api/v1/projects/{id}', {
        params: { id: current.id },
        body: { description: spec.description },
      });
    },
  };
}

/** The server's deployment in the file's terms, for comparison. */
function currentFields(d: State['deployments'][number]): Record<string, unknown> {
  return {
    runtime: d.runtime,
    source: d.source,
    version: d.version,
    replicas: d.replicas,
    checksum: d.checksum,
    context_length: d.context_length,
    parameters: d.parameters,
    'resources.gpus': d.resources?.gpus,
    'resources.gpu_memory_gib': d.resources?.gpu_memory_gib,
    'placement.strategy': d.placement?.strategy,
    'placement.node_selector': d.placement?.node_selector,
  };
}

function fileFields(spec: DeploymentSpec): Record<string, unknown> {
  const gib = spec.resources?.gpu_memory_gib;
  return {
    runtime: spec.runtime,
    source: spec.source,
    version: spec.version,
    replicas: spec.replicas,
    checksum: spec.checksum,
    context_length: spec.context_length,
    parameters: spec.parameters,
    'resources.gpus': spec.resources?.gpus,
    // "auto" is what the server shows as no fixed figure
    'resources.gpu_memory_gib': gib === 'auto' ? null : gib,
    'placement.strategy': spec.placement?.strategy,
    'placement.node_selector': spec.placement?.node_selector,
  };
}

/**
 * A deployment is matched by name (the model it serves). A changed spec is a rolling update (one
 * replica at a time); a changed replica count scales; `maas apply --wait` follows the rollout.
 */
export function planDeployment(spec: DeploymentSpec, state: State): Step {
  const current = state.deployments.find((d) => d.name === spec.name);
  const wanted = fileFields(spec);
  if (!current) {
    const { name, ...rest } = spec;
    return {
      action: 'create',
      kind: 'deployment',
      name,
      changes: Object.entries(wanted)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([field, to]) => ({ field, from: null, to })),
      async run(ctx) {
        await ctx.api.request('POST', DEPLOYMENTS, { body: { model: name, replicas: 1, ...rest } });
      },
    };
  }
  const have = currentFields(current);
  const changes: FieldChange[] = [];
  for (const [field, to] of Object.entries(wanted)) compare(changes, field, have[field], to);
  const changed = new Set(changes.map((c) => c.field));
  const body: Record<string, unknown> = {};
  for (const field of changed) {
    const [top, sub] = field.split('.') as [string, string | undefined];
    if (!sub) body[top] = (spec as Record<string, unknown>)[top];
  }
  if ([...changed].some((f) => f.startsWith('resources.'))) body.resources = spec.resources;
  if ([...changed].some((f) => f.startsWith('placement.'))) body.placement = spec.placement;
  return {
    action: changes.length ? 'update' : 'unchanged',
    kind: 'deployment',
    name: spec.name,
    changes,
    async run(ctx) {
      await ctx.api.request('PATCH', '/api/v1/deployments/{id}', { params: { id: current.id }, body });
    },
  };
}
