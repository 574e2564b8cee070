import type { OutboundPolicy } from '@maas/outbound';
import type { TrainingTransport } from './training.ts';
import type { AgentTransport } from './transport.ts';

type Log = (msg: string, extra?: Record<string, unknown>) => void;

export interface EmbeddedNodeOptions {
  /** the agent protocol as direct calls into the server */
  transport: AgentTransport;
  /** the agent's own (owner-only) directory */
  dataDir: string;
  portRange: [number, number];
  heartbeatMs: number;
  hfEndpoint?: string | undefined;
  /** the server's outbound policy: downloads reach what the server's allow-list allows */
  outbound?: OutboundPolicy | undefined;
  log: Log;
}

export interface EmbeddedTrainerOptions {
  /** the training channel as direct calls into the server */
  transport: TrainingTransport;
  dataDir: string;
  log: Log;
}

export interface EmbeddedTrainer {
  /** the torch version the trainer found */
  torch: string;
  /** a run of this node changed on the server: poll now */
  nudge(): void;
  stop(): Promise<void>;
}

/**
 * The node agent `maas serve` runs inside itself, handed to the server by whoever starts it (the
 * CLI): the server speaks to it through these calls and never imports the agent's code. Its
 * runtimes bind 127.0.0.1 and stop with the server.
 */
export interface EmbeddedAgent {
  startNode(opts: EmbeddedNodeOptions): Promise<{ stop(): Promise<void> }>;
  /** null when this machine cannot train (no python3 with torch) */
  startTrainer(opts: EmbeddedTrainerOptions): Promise<EmbeddedTrainer | null>;
}
