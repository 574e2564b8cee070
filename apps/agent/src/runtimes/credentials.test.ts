import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredReplica, LaunchInput } from '@maas/contracts/agent';
import { describe, expect, it } from 'vitest';
import { AppliedTemplateError, runtimes } from './index.ts';

/** Every runtime adapter makes its server require the replica credential, and none starts without one. */
const KEY = 'maas-replica-adapter-test-0123456789';
const input = (over: Partial<DesiredReplica> = {}): LaunchInput => ({
  replica: {
    id: 'rep_1',
    deployment_id: 'dep_1',
    model_name: 'm',
    runtime: 'custom',
    source: '/m.gguf',
    checksum: null,
    port: 41000,
    gpu_indexes: [],
    memory_bytes: 0,
    context_length: null,
    runtime_args: [],
    env: {},
    command: 'srv --port {port} --key {api_key}',
    health_path: null,
    api_key: KEY,
    ...over,
  },
  modelPath: '/m.gguf',
  host: '10.0.0.7',
  gpus: [],
  workDir: mkdtempSync(join(tmpdir(), 'maas-adapter-')),
});

describe('replica credentials in the runtime adapters', () => {
  it('llama.cpp, ollama (its guard) and custom get it in MAAS_REPLICA_API_KEY; vLLM in VLLM_API_KEY', () => {
    expect(runtimes['llama-cpp'].launch(input()).env.MAAS_REPLICA_API_KEY).toBe(KEY);
    const ollama = runtimes.ollama.launch(input());
    expect(ollama.env.MAAS_REPLICA_API_KEY).toBe(KEY);
    expect(ollama.args[0]).toMatch(/ollama-guard\.mjs$/);
    expect(ollama.args.slice(1, 5)).toEqual(['--host', '10.0.0.7', '--port', '41000']);
    expect(ollama.env.OLLAMA_HOST).toBeUndefined();
    expect(runtimes.vllm.launch(input()).env.VLLM_API_KEY).toBe(KEY);
    const custom = runtimes.custom.launch(input());
    expect(custom.args).toEqual(['--port', '41000', '--key', KEY]);
    expect(custom.env.MAAS_REPLICA_API_KEY).toBe(KEY);
  });

  it('SGLang gets --api-key last, after any runtime argument; a deployment env cannot replace it', () => {
    const sglang = runtimes.sglang.launch(input({ runtime_args: ['--api-key', 'mine'] }));
    expect(sglang.args.slice(-2)).toEqual(['--api-key', KEY]);
    const custom = runtimes.custom.launch(input({ env: { MAAS_REPLICA_API_KEY: 'mine' } }));
    expect(custom.env.MAAS_REPLICA_API_KEY).toBe(KEY);
  });

  it('a replica without a credential is not started', () => {
    for (const name of ['llama-cpp', 'ollama', 'vllm', 'sglang', 'custom'] as const)
      expect(() => runtimes[name].launch(input({ api_key: null }))).toThrow(AppliedTemplateError);
  });
});
