import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import type { CreateDeploymentBody } from './bodies.ts';
import { checkSource, estimateSpec } from './estimate-spec.ts';
import type { DeploymentSpec } from './schema.ts';

export type SpecInput = Omit<CreateDeploymentBody, 'model' | 'replicas' | 'placement'>;
const DEFAULT_GPUS: Record<string, number> = { vllm: 1, sglang: 1 };
export const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

export function specOf(input: SpecInput, base?: DeploymentSpec): Omit<DeploymentSpec, 'estimate'> {
  const runtime = input.runtime ?? base?.runtime ?? 'llama-cpp';
  const mem = input.resources?.gpu_memory_gib;
  return {
    version: input.version ?? base?.version ?? '1',
    runtime,
    source: input.source ?? base!.source,
    checksum: input.checksum === undefined ? (base?.checksum ?? null) : input.checksum,
    context_length:
      input.context_length === undefined ? (base?.context_length ?? null) : input.context_length,
    runtime_args: input.runtime_args ?? base?.runtime_args ?? [],
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

/** The spec of a body (on top of `base` for an update), checked and with its memory estimate. */
export async function buildSpec(
  db: Db,
  hfEndpoint: string | undefined,
  input: SpecInput,
  base?: DeploymentSpec,
): Promise<DeploymentSpec> {
  const spec = specOf(input, base);
  checkSource(spec.source, hfEndpoint);
  if (spec.runtime === 'custom' && !spec.command) {
    throw new AppError('unprocessable', 'a custom runtime needs a command', undefined, { param: 'command' });
  }
  const { estimate } = await estimateSpec(db, spec, hfEndpoint);
  return { ...spec, estimate };
}
