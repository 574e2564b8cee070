import { parameterFlags } from '../runtime-parameters.ts';
import { gpuEnv, memoryFraction, presetParameters, type RuntimeAdapter, replicaKey } from './types.ts';
import { pythonHas } from './which.ts';

/** `python3 -m sglang.launch_server …`, requiring the replica credential (`--api-key`; /health stays open). */
export const sglangRuntime: RuntimeAdapter = {
  name: 'sglang',
  available: () => pythonHas('sglang'),
  launch(input) {
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
  },
};
