import { AppliedTemplateError, gpuEnv, REPLICA_KEY_ENV, replicaKey } from '@maas/contracts/agent';
import { fillTemplate, splitCommand } from './command-template.ts';
import type { RuntimeAdapter } from './types.ts';

/**
 * Any OpenAI-compatible server: a command template with {model_path}, {model_name}, {host}, {port},
 * {gpus}, {context_length} and {api_key}, and the path of its health check. The server must require
 * the replica credential as `Authorization: Bearer <key>` on its API; it gets it as {api_key} and
 * in MAAS_REPLICA_API_KEY (prefer the variable: arguments show in the process list). The agent's
 * health check sends the same header.
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
      api_key: replicaKey(input),
    };
    const [command, ...args] = splitCommand(r.command).map((word) => fillTemplate(word, values));
    return {
      command: command!,
      args: [...args, ...r.runtime_args],
      env: { ...gpuEnv(input), ...r.env, [REPLICA_KEY_ENV]: replicaKey(input) },
      port: r.port,
      healthPath: r.health_path ?? '/health',
      apiPath: '/v1',
    };
  },
};
