import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpuEnv, type RuntimeAdapter } from './types.ts';
import { onPath } from './which.ts';

/** A private `ollama serve` per replica; once up, `ollama create` imports the GGUF under the served name. */
export const ollamaRuntime: RuntimeAdapter = {
  name: 'ollama',
  available: async () => onPath('ollama'),
  launch(input) {
    const r = input.replica;
    const env = {
      ...gpuEnv(input),
      OLLAMA_HOST: `${input.host}:${r.port}`,
      OLLAMA_MODELS: join(input.workDir, 'ollama-models'),
      ...r.env,
    };
    const modelfile = join(input.workDir, 'Modelfile');
    writeFileSync(
      modelfile,
      `FROM ${input.modelPath}\n${r.context_length ? `PARAMETER num_ctx ${r.context_length}\n` : ''}`,
    );
    return {
      command: 'ollama',
      args: ['serve', ...r.runtime_args],
      env,
      port: r.port,
      healthPath: '/api/version',
      apiPath: '/v1',
      afterStart: { command: 'ollama', args: ['create', r.model_name, '-f', modelfile], env },
    };
  },
};
