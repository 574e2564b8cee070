import { gpuEnv, memoryFraction, type RuntimeAdapter, replicaKey } from './types.ts';
import { pythonHas } from './which.ts';

/** `python3 -m sglang.launch_server …`, requiring the replica credential (`--api-key`; /health stays open). */
export const sglangRuntime: RuntimeAdapter = {
  name: 'sglang',
  available: () => pythonHas('sglang'),
  launch(input) {
    const r = input.replica;
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
        memoryFraction(input).toFixed(2),
        ...(r.context_length ? ['--context-length', String(r.context_length)] : []),
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
