import type { DesiredState, StatusReport } from './protocol.ts';

/** How an agent talks to the server: HTTP for `maas agent`, direct calls for the agent inside `maas serve`. */
export interface AgentTransport {
  /** Establishes the node's identity (registering with the join token the first time). */
  connect(): Promise<{ nodeId: string; heartbeatMs: number }>;
  report(body: StatusReport): Promise<{ desired_version: string }>;
  desired(): Promise<DesiredState>;
  /** Delivers the desired state on connect and on every change until the signal aborts or the link drops. */
  watch(onDesired: (state: DesiredState) => void, signal: AbortSignal): Promise<void>;
}
