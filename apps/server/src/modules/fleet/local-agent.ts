import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, type AgentTransport, createAgent } from '@maas/agent';
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
 * Its runtimes bind 127.0.0.1 and stop with the server.
 */
export async function startLocalAgent(deps: {
  agents: AgentService;
  config: FleetConfig;
  dataDir: string;
  log: Logger;
  /** the server's outbound policy: downloads reach what the server's allow-list allows */
  outbound?: OutboundPolicy | undefined;
}): Promise<Agent> {
  const dir = deps.dataDir.startsWith('memory://')
    ? mkdtempSync(join(tmpdir(), 'maas-agent-'))
    : join(deps.dataDir, 'agent');
  const agent = await createAgent({
    transport: localTransport(deps.agents),
    dataDir: dir,
    address: '127.0.0.1',
    bindHost: '127.0.0.1',
    portRange: deps.config.localAgentPorts,
    heartbeatMs: deps.config.heartbeatMs,
    hfEndpoint: deps.config.hfEndpoint,
    ...(deps.outbound ? { outbound: deps.outbound } : {}),
    stopRuntimesOnExit: true,
    log: (msg, extra) => deps.log.info({ ...extra, agent: 'local' }, msg),
  });
  await agent.start();
  return agent;
}
