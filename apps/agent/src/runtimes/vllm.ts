import { vllmLaunch } from '@maas/contracts/agent';
import type { RuntimeAdapter } from './types.ts';
import { onPath } from './which.ts';

/** vLLM where `vllm` is on PATH; the command line is the shared preset's. */
export const vllmRuntime: RuntimeAdapter = {
  name: 'vllm',
  available: async () => onPath('vllm'),
  launch: vllmLaunch,
};
