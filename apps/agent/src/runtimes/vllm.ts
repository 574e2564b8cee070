import { parameterFlags } from '../runtime-parameters.ts';
import { gpuEnv, memoryFraction, presetParameters, type RuntimeAdapter, replicaKey } from './types.ts';
import { onPath } from './which.ts';

/**
 * `vllm serve …` with tensor parallelism over the replica's GPUs and a memory share that matches the
 * scheduler's; its OpenAI API requires the replica credential (VLLM_API_KEY; /health stays open).
 */
export const vllmRuntime: RuntimeAdapter = {
  name: 'vllm',
  available: async () => onPath('vllm'),
  launch(input) {
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
  },
};
