import type { Launch, LaunchInput, RuntimeName } from '@maas/contracts/agent';

export interface RuntimeAdapter {
  name: RuntimeName;
  /** can this node run it? (binary on PATH, Python module importable …) */
  available(): Promise<boolean>;
  /** one-time work before the first launch on this agent; `dataDir` is the agent's own (owner-only) */
  prepare?(ctx: { dataDir: string }): Promise<void>;
  launch(input: LaunchInput): Launch;
}
