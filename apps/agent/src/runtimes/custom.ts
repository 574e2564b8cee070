import { AppliedTemplateError, fillTemplate, splitCommand } from './command-template.ts';
import { gpuEnv, type RuntimeAdapter } from './types.ts';

/**
 * Any OpenAI-compatible server: a command template with {model_path}, {model_name}, {host}, {port},
 * {gpus} and {context_length}, and the path of its health check.
 */
export const customRuntime: RuntimeAdapter = {
  name: 'custom',
  available: async () => true,
  launch(input) {
    const r = input.replica;
    if (!r.command) throw new AppliedTemplateError('a custom runtime needs a command');
    const values = {
      model_path: input.modelPath,
      model_name: r.model_name,
      host: input.host,
      port: String(r.port),
      gpus: r.gpu_indexes.join(','),
      context_length: r.context_length ? String(r.context_length) : '',
    };
    const [command, ...args] = splitCommand(r.command).map((word) => fillTemplate(word, values));
    return {
      command: command!,
      args: [...args, ...r.runtime_args],
      env: { ...gpuEnv(input), ...r.env },
      port: r.port,
      healthPath: r.health_path ?? '/health',
      apiPath: '/v1',
    };
  },
};
