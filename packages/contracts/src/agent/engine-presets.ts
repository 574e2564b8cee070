import {
  gpuEnv,
  type Launch,
  type LaunchInput,
  memoryFraction,
  presetParameters,
  replicaKey,
} from './launch.ts';
import { parameterFlags } from './runtime-parameters.ts';

/**
 * The serving engines' command lines (vLLM, SGLang): the agent runs them on a node, the server puts
 * them in a Kubernetes Deployment's container. Typed parameters only; a tenant never writes one.
 */

/**
 * `vllm serve …` with tensor parallelism over the replica's GPUs and a memory share that matches the
 * scheduler's; its OpenAI API requires the replica credential (VLLM_API_KEY; /health stays open).
 */
export function vllmLaunch(input: LaunchInput): Launch {
  const r = input.replica;
  const p = presetParameters(input);
  const share = Math.min(memoryFraction(input), Number(p.gpu_memory_utilization ?? 1));
  return {
    command: 'vllm',
    args: [
      'serve',
      input.modelPath,
      '--served-model-name',
      r.model_name,
      '--host',
      input.host,
      '--port',
      String(r.port),
      '--tensor-parallel-size',
      String(Math.max(1, r.gpu_indexes.length)),
      '--gpu-memory-utilization',
      share.toFixed(2),
      ...(r.context_length ? ['--max-model-len', String(r.context_length)] : []),
      ...parameterFlags(p, {
        dtype: '--dtype',
        quantization: '--quantization',
        kv_cache_dtype: '--kv-cache-dtype',
        max_num_seqs: '--max-num-seqs',
        max_num_batched_tokens: '--max-num-batched-tokens',
        enforce_eager: '--enforce-eager',
        enable_prefix_caching: '--enable-prefix-caching',
      }),
      ...r.runtime_args,
    ],
    // vLLM's --api-key, by its environment variable so it is not in the process list
    env: { ...gpuEnv(input), ...r.env, VLLM_API_KEY: replicaKey(input) },
    port: r.port,
    healthPath: '/health',
    apiPath: '/v1',
  };
}

/** `python3 -m sglang.launch_server …`, requiring the replica credential (`--api-key`; /health stays open). */
export function sglangLaunch(input: LaunchInput): Launch {
  const r = input.replica;
  const p = presetParameters(input);
  const share = Math.min(memoryFraction(input), Number(p.mem_fraction_static ?? 1));
  return {
    command: 'python3',
    args: [
      '-m',
      'sglang.launch_server',
      '--model-path',
      input.modelPath,
      '--served-model-name',
      r.model_name,
      '--host',
      input.host,
      '--port',
      String(r.port),
      '--tp-size',
      String(Math.max(1, r.gpu_indexes.length)),
      '--mem-fraction-static',
      share.toFixed(2),
      ...(r.context_length ? ['--context-length', String(r.context_length)] : []),
      ...parameterFlags(p, {
        dtype: '--dtype',
        quantization: '--quantization',
        kv_cache_dtype: '--kv-cache-dtype',
        max_running_requests: '--max-running-requests',
        chunked_prefill_size: '--chunked-prefill-size',
      }),
      ...r.runtime_args,
      // last, so no runtime argument can drop it; SGLang takes it on the command line only
      '--api-key',
      replicaKey(input),
    ],
    env: { ...gpuEnv(input), ...r.env },
    port: r.port,
    healthPath: '/health',
    apiPath: '/v1',
  };
}

/** The presets a Kubernetes cluster runs, by runtime name. */
export const ENGINE_PRESETS = { vllm: vllmLaunch, sglang: sglangLaunch } as const;
