import type { DesiredReplica } from './protocol.ts';
import { checkParameters, type RuntimeParameters } from './runtime-parameters.ts';

/**
 * How a runtime preset turns a replica into a command line: pure, so the agent launches it on a node
 * and the server writes the same command into a Kubernetes Deployment.
 */

/** A replica whose spec yields no command line (bad parameters, no credential, a bad template): it fails, never runs. */
export class AppliedTemplateError extends Error {}

export interface LaunchInput {
  replica: DesiredReplica;
  /** the model file or directory on this node */
  modelPath: string;
  /** address the runtime binds */
  host: string;
  /** vendor and total memory of the GPUs assigned (same order as replica.gpu_indexes) */
  gpus: { vendor: 'nvidia' | 'amd'; total: number }[];
  /** a directory the runtime may write to (ollama's model store, Modelfile) */
  workDir: string;
}

export interface Command {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** How to run one replica: the process, where it listens and how to tell it is healthy. */
export interface Launch extends Command {
  port: number;
  /** GET http://127.0.0.1:{port}{healthPath} answers 2xx when ready */
  healthPath: string;
  /** where the OpenAI-compatible API lives, e.g. `/v1` */
  apiPath: string;
  /** run once the runtime is healthy (ollama: create the model from the GGUF) */
  afterStart?: Command;
}

/** The variable a runtime finds its replica credential in (custom runtimes, our llama.cpp server, the ollama guard). */
export const REPLICA_KEY_ENV = 'MAAS_REPLICA_API_KEY';

/**
 * The credential the runtime must require (`Authorization: Bearer …`) on everything but its health
 * path. A replica without one (placed by a server older than credentials) is not started.
 */
export function replicaKey(input: LaunchInput): string {
  const key = input.replica.api_key;
  if (!key) throw new AppliedTemplateError('the replica has no credential: upgrade the maas server');
  return key;
}

/** CUDA_VISIBLE_DEVICES (or the ROCm equivalents) for the replica's GPUs; none hides every GPU. */
export function gpuEnv(input: LaunchInput): Record<string, string> {
  const list = input.replica.gpu_indexes.join(',');
  if (input.gpus[0]?.vendor === 'amd') return { HIP_VISIBLE_DEVICES: list, ROCR_VISIBLE_DEVICES: list };
  return { CUDA_VISIBLE_DEVICES: list };
}

/** The share of each GPU a replica may take (vLLM, SGLang), from the memory the scheduler promised it. */
export function memoryFraction(input: LaunchInput): number {
  const smallest = Math.min(...input.gpus.map((g) => g.total));
  if (!Number.isFinite(smallest) || smallest <= 0) return 0.9;
  const f = Math.ceil((input.replica.memory_bytes / smallest) * 100) / 100;
  return Math.min(0.95, Math.max(0.05, f));
}

/** The replica's preset parameters, checked again here: a bad set fails the replica, never reaches argv. */
export function presetParameters(input: LaunchInput): RuntimeParameters {
  const checked = checkParameters(input.replica.runtime, input.replica.parameters ?? {});
  if (!checked.ok) throw new AppliedTemplateError(checked.message);
  return checked.value;
}
