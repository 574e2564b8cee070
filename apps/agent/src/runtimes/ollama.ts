import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv, presetParameters, REPLICA_KEY_ENV, replicaKey } from '@maas/contracts/agent';
import type { RuntimeAdapter } from './types.ts';
import { onPath } from './which.ts';

const guard = fileURLToPath(new URL('./ollama-guard.mjs', import.meta.url));

/**
 * A private `ollama serve` per replica on a loopback port, behind ./ollama-guard.mjs: ollama has no
 * authentication, so the guard imports the GGUF (`ollama create`, under the served name) and then
 * listens on the node address, passing on only requests with the replica credential.
 */
export const ollamaRuntime: RuntimeAdapter = {
  name: 'ollama',
  available: async () => onPath('ollama'),
  launch(input) {
    const r = input.replica;
    const p = presetParameters(input);
    const env = {
      ...gpuEnv(input),
      ...(p.num_parallel ? { OLLAMA_NUM_PARALLEL: String(p.num_parallel) } : {}),
      ...(p.flash_attention ? { OLLAMA_FLASH_ATTENTION: '1' } : {}),
      OLLAMA_MODELS: join(input.workDir, 'ollama-models'),
      ...r.env,
      // the guard binds the node address; ollama itself only ever loopback
      [REPLICA_KEY_ENV]: replicaKey(input),
    };
    const modelfile = join(input.workDir, 'Modelfile');
    writeFileSync(
      modelfile,
      `FROM ${input.modelPath}\n${r.context_length ? `PARAMETER num_ctx ${r.context_length}\n` : ''}`,
      { mode: 0o600 },
    );
    chmodSync(modelfile, 0o600);
    return {
      command: process.execPath,
      args: [
        guard,
        '--host',
        input.host,
        '--port',
        String(r.port),
        '--name',
        r.model_name,
        '--modelfile',
        modelfile,
        '--',
        ...r.runtime_args,
      ],
      env,
      port: r.port,
      // answered through the guard (with the credential) once the model is imported
      healthPath: '/api/version',
      apiPath: '/v1',
    };
  },
};
