import type { OutboundPolicy } from '@maas/outbound';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import type { CreateDeploymentBody } from './bodies.ts';
import { checkSource, estimateSpec } from './estimate-spec.ts';
import type { DeploymentSpec } from './schema.ts';
import { checkSpecParameters, checkSpecPolicy, isPlatformAdmin } from './spec-policy.ts';

export type SpecInput = Omit<CreateDeploymentBody, 'model' | 'replicas' | 'placement'>;
const DEFAULT_GPUS: Record<string, number> = { vllm: 1, sglang: 1 };
export const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

export function specOf(
  input: SpecInput,
  base?: DeploymentSpec,
): Omit<DeploymentSpec, 'estimate' | 'platform_admin'> {
  const runtime = input.runtime ?? base?.runtime ?? 'llama-cpp';
  const mem = input.resources?.gpu_memory_gib;
  // another runtime has other parameters: the old ones do not carry over
  const baseParameters = base && base.runtime === runtime ? base.parameters : undefined;
  return {
    version: input.version ?? base?.version ?? '1',
    runtime,
    source: input.source ?? base!.source,
    checksum: input.checksum === undefined ? (base?.checksum ?? null) : input.checksum,
    context_length:
      input.context_length === undefined ? (base?.context_length ?? null) : input.context_length,
    runtime_args: input.runtime_args ?? base?.runtime_args ?? [],
    parameters: input.parameters ?? baseParameters ?? {},
    env: input.env ?? base?.env ?? {},
    command: input.command === undefined ? (base?.command ?? null) : input.command,
    health_path: input.health_path === undefined ? (base?.health_path ?? null) : input.health_path,
    resources: {
      gpus: input.resources?.gpus ?? base?.resources.gpus ?? DEFAULT_GPUS[runtime] ?? 0,
      gpu_memory_gib:
        mem === undefined ? (base?.resources.gpu_memory_gib ?? null) : mem === 'auto' ? null : mem,
    },
  };
}

/**
 * The spec of a body (on top of `base` for an update), checked and with its memory estimate. Who
 * may write it is checked first (./spec-policy.ts), before the source is looked at: a tenant's
 * local path is refused without any file being read.
 */
export async function buildSpec(
  db: Db,
  hfEndpoint: string | undefined,
  principal: Principal,
  input: SpecInput,
  base?: DeploymentSpec,
  outbound?: OutboundPolicy,
): Promise<DeploymentSpec> {
  const spec = specOf(input, base);
  checkSpecPolicy(principal, spec, base);
  checkSource(spec.source, hfEndpoint);
  if (spec.runtime === 'custom' && !spec.command) {
    throw new AppError('unprocessable', 'a custom runtime needs a command', undefined, { param: 'command' });
  }
  spec.parameters = checkSpecParameters(spec);
  const { estimate } = await estimateSpec(db, spec, hfEndpoint, outbound);
  return { ...spec, estimate, platform_admin: isPlatformAdmin(principal) };
}
