import { checkParameters, isLoaderVariable } from '@maas/contracts/agent';
import { AppError } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import type { DeploymentSpec } from './schema.ts';

/**
 * Who may run what on the fleet. Tenants (org roles and API keys) choose a runtime preset with its
 * typed `parameters`; `runtime: custom`, `command`, free-form `runtime_args`, `env` and sources that
 * are paths on the nodes run code or read files as the agent's user, so only platform admins set
 * them. Loader variables (LD_PRELOAD, NODE_OPTIONS, …) and MAAS_* names are refused for everyone.
 */
export const isPlatformAdmin = (p: Principal) => p.kind === 'user' && p.isPlatformAdmin;

/** A path on the node (absolute, or file://), as opposed to a URL the agent downloads. */
export const isLocalSource = (source: string) => !/^(https?|hf):\/\//i.test(source);

type SpecFields = Pick<DeploymentSpec, 'runtime' | 'source' | 'runtime_args' | 'env' | 'command'>;

/** The settings of a spec that only a platform admin may give, as the body fields that carry them. */
export function privilegedFields(spec: SpecFields): string[] {
  const out: string[] = [];
  if (spec.runtime === 'custom') out.push('runtime');
  if (spec.command) out.push('command');
  if (spec.runtime_args.length > 0) out.push('runtime_args');
  if (Object.keys(spec.env).length > 0) out.push('env');
  if (isLocalSource(spec.source)) out.push('source');
  return out;
}

const WHY: Record<string, string> = {
  runtime: 'the custom runtime runs any command',
  command: 'a command runs as the agent’s user',
  runtime_args: 'free-form runtime arguments can run code; use the typed `parameters` of the preset',
  env: 'environment variables can change what a runtime loads',
  source: 'a local path reads files on the nodes; use an https:// or hf:// source',
};

/** Loader variables and maas's own names are refused in `env`, whoever asks. */
export function checkEnvNames(env: Record<string, string> | undefined): void {
  for (const name of Object.keys(env ?? {})) {
    if (isLoaderVariable(name)) {
      throw new AppError(
        'unprocessable',
        `env ${name} is a loader variable (it makes the runtime load code of the caller's choosing): it is refused for everyone`,
        undefined,
        { param: `env.${name}` },
      );
    }
    if (name.toUpperCase().startsWith('MAAS_')) {
      throw new AppError('unprocessable', `env names starting with MAAS_ are reserved for maas`, undefined, {
        param: `env.${name}`,
      });
    }
  }
}

/** The spec's parameters, valid for its runtime (a 422 naming the parameter otherwise). */
export function checkSpecParameters(spec: Pick<DeploymentSpec, 'runtime' | 'parameters'>) {
  const checked = checkParameters(spec.runtime, spec.parameters ?? {});
  if (!checked.ok) throw new AppError('unprocessable', checked.message, undefined, { param: checked.path });
  return checked.value;
}

/**
 * May `p` write `spec` (on top of `base` for an update)? A tenant may neither give privileged
 * settings nor change a spec a platform admin gave them (403); the spec records whether a platform
 * admin wrote it, which also decides the nodes it may run on (see scheduler/filter-nodes.ts).
 */
export function checkSpecPolicy(p: Principal, spec: SpecFields, base?: SpecFields): void {
  checkEnvNames(spec.env);
  if (isPlatformAdmin(p)) return;
  const held = base ? privilegedFields(base) : [];
  if (held.length > 0) {
    throw new AppError(
      'forbidden',
      `this deployment has settings only a platform admin may change (${held.join(', ')}): ask a platform admin to update it`,
      undefined,
      { param: held[0] },
    );
  }
  const [field] = privilegedFields(spec);
  if (field) {
    throw new AppError('forbidden', `only a platform admin may set ${field}: ${WHY[field]}`, undefined, {
      param: field,
    });
  }
}
