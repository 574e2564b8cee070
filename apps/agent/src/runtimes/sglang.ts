import { gpuEnv, memoryFraction, type RuntimeAdapter } from './types.ts';
import { pythonHas } from './which.ts';

/** `python3 -m sglang.launch_server …` */
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
      ],
      env: { ...gpuEnv(input), ...r.env },
      port: r.port,
      healthPath: '/health',
      apiPath: '/v1',
    };
  },
};
