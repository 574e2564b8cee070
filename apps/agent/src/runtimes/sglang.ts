import { sglangLaunch } from '@maas/contracts/agent';
import type { RuntimeAdapter } from './types.ts';
import { pythonHas } from './which.ts';

/** SGLang where python3 imports `sglang`; the command line is the shared preset's. */
export const sglangRuntime: RuntimeAdapter = {
  name: 'sglang',
  available: () => pythonHas('sglang'),
  launch: sglangLaunch,
};
