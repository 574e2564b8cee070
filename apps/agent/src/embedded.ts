import type { EmbeddedAgent } from '@maas/contracts/agent';

/**
 * The agent `maas serve` runs inside itself (the CLI hands it to the server): the node on 127.0.0.1
 * with its runtimes stopped when the server stops, and the trainer when python3 has torch. Its code
 * loads on first use, so a server without a local node never pays for it.
 */
export const embeddedAgent: EmbeddedAgent = {
  async startNode(opts) {
    const { createAgent } = await import('./agent.ts');
    const agent = await createAgent({
      transport: opts.transport,
      dataDir: opts.dataDir,
      address: '127.0.0.1',
      bindHost: '127.0.0.1',
      portRange: opts.portRange,
      heartbeatMs: opts.heartbeatMs,
      hfEndpoint: opts.hfEndpoint,
      ...(opts.outbound ? { outbound: opts.outbound } : {}),
      stopRuntimesOnExit: true,
      log: opts.log,
    });
    await agent.start();
    return agent;
  },
  async startTrainer(opts) {
    const { startTrainingLoop } = await import('./training/training-loop.ts');
    return startTrainingLoop({ transport: opts.transport, dataDir: opts.dataDir, log: opts.log });
  },
};
