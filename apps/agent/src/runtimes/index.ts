import type { RuntimeName } from '@maas/contracts/agent';
import { customRuntime } from './custom.ts';
import { llamaCppRuntime } from './llama-cpp/index.ts';
import { ollamaRuntime } from './ollama.ts';
import { sglangRuntime } from './sglang.ts';
import type { RuntimeAdapter } from './types.ts';
import { vllmRuntime } from './vllm.ts';

export const runtimes: Record<RuntimeName, RuntimeAdapter> = {
  'llama-cpp': llamaCppRuntime,
  vllm: vllmRuntime,
  sglang: sglangRuntime,
  ollama: ollamaRuntime,
  custom: customRuntime,
};

/** The runtimes this node can start. */
export async function availableRuntimes(): Promise<RuntimeName[]> {
  const checks = await Promise.all(
    Object.values(runtimes).map(async (r) => [r.name, await r.available()] as const),
  );
  return checks.filter(([, ok]) => ok).map(([name]) => name);
}

export { AppliedTemplateError, type Launch, type LaunchInput } from '@maas/contracts/agent';
export { fillTemplate, splitCommand } from './command-template.ts';
export type { RuntimeAdapter } from './types.ts';
