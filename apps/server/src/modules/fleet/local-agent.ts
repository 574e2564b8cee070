import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentTransport, EmbeddedAgent } from '@maas/contracts/agent';
import type { OutboundPolicy } from '@maas/outbound';
import type { Logger } from 'pino';
import type { AgentService } from './agent-service.ts';
import type { FleetConfig } from './config.ts';

/** The agent protocol as direct calls: the agent inside `maas serve` needs no join token or socket. */
function localTransport(agents: AgentService): AgentTransport {
  let nodeId = '';
  return {
    async connect() {
      nodeId = (await agents.ensureLocalNode()).id;
      return { nodeId, heartbeatMs: 5_000 };
    },
    report: (body) => agents.reportFor(nodeId, body, '127.0.0.1'),
    desired: () => agents.desired(nodeId),
    async watch(onDesired, signal) {
      const push = () => void agents.desired(nodeId).then(onDesired, () => {});
      const unwatch = agents.watch(nodeId, push);
      push();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      unwatch();
    },
  };
}

/**
 * `maas serve` runs a node of its own, so a laptop can deploy a model with nothing else installed.
 * The agent comes from whoever started the server (`deps.agent`); this side gives it its transport,
 * directory and ports.
 */
export async function startLocalAgent(deps: {
  agent: EmbeddedAgent;
  agents: AgentService;
  config: FleetConfig;
  dataDir: string;
  log: Logger;
  /** the server's outbound policy: downloads reach what the server's allow-list allows */
  outbound?: OutboundPolicy | undefined;
}): Promise<{ stop(): Promise<void> }> {
  const dir = deps.dataDir.startsWith('memory://')
    ? mkdtempSync(join(tmpdir(), 'maas-agent-'))
    : join(deps.dataDir, 'agent');
  return deps.agent.startNode({
    transport: localTransport(deps.agents),
    dataDir: dir,
    portRange: deps.config.localAgentPorts,
    heartbeatMs: deps.config.heartbeatMs,
    hfEndpoint: deps.config.hfEndpoint,
    outbound: deps.outbound,
    log: (msg, extra) => deps.log.info({ ...extra, agent: 'local' }, msg),
  });
}
