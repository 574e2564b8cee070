import type { EmbeddedAgent } from '@maas/contracts/agent';
import { createOutboundPolicy, type OutboundPolicy } from '@maas/outbound';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import type { AuditService } from '../audit/index.ts';
import type { ProviderService } from '../providers/index.ts';
import type { RegistryService } from '../registry/index.ts';
import { createAgentService } from './agent-service.ts';
import { loadFleetConfig } from './config.ts';
import { type Controller, createController } from './controller.ts';
import { createDeploymentService } from './deployments-service.ts';
import { createFleetMetrics } from './fleet-metrics.ts';
import { createGatewayTargets } from './gateway-targets.ts';
import { createClusterService, createKubernetesPlacement } from './kubernetes/index.ts';
import { startLocalAgent } from './local-agent.ts';
import { createNodeService } from './nodes-service.ts';
import { createReplicaRestart } from './replica-restart.ts';

export interface FleetDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  log: Logger;
  registry: RegistryService;
  providers: ProviderService;
  /** seals the replica credentials (MAAS_SECRET_KEY) */
  secrets: SecretBox;
  /** `NODE_ENV` (the in-process agent is off by default under test) */
  nodeEnv: string;
  /** the server's data directory (the in-process agent keeps its state under it) */
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** where estimates and the in-process agent's downloads may connect (default: public addresses only) */
  outbound?: OutboundPolicy;
  /** where node, GPU, replica, deployment and scheduler metrics are registered */
  metricsRegistry?: Registry;
  /** the node agent to run inside this server when MAAS_LOCAL_AGENT is on (`maas serve` gives it) */
  embeddedAgent?: EmbeddedAgent | undefined;
}

/** Nodes, deployments, replicas, the scheduler, the agent protocol and the reconcile loop. */
export function createFleet(deps: FleetDeps) {
  const { db, audit, bus, log, secrets } = deps;
  const config = loadFleetConfig(deps.env ?? process.env, deps.nodeEnv);
  const targets = createGatewayTargets({ db, registry: deps.registry, providers: deps.providers, log });
  let controller: Controller | undefined;
  const agents = createAgentService({
    db,
    audit,
    bus,
    log,
    config,
    secrets,
    onChanged: (ids) => {
      for (const id of ids) void targets.sync(id);
      void controller?.kick();
    },
  });
  const metrics = deps.metricsRegistry ? createFleetMetrics({ registry: deps.metricsRegistry, db }) : null;
  controller = createController({
    db,
    log,
    config,
    agents,
    targets,
    secrets,
    onPlacement: metrics ? (outcome) => metrics.placement(outcome) : undefined,
  });
  const outbound = deps.outbound ?? createOutboundPolicy();
  const kubernetes = createKubernetesPlacement({
    db,
    log,
    secrets,
    outbound,
    targets,
    intervalMs: config.kubernetesSyncMs,
  });
  const clustersSvc = createClusterService({
    db,
    audit,
    secrets,
    outbound,
    kick: () => void kubernetes.kick(),
  });
  const deploymentsSvc = createDeploymentService({
    db,
    audit,
    config,
    controller,
    publish: (ids) => agents.publish(ids),
    modelNameTaken: (orgId, name) => deps.registry.cache.lookup(orgId, name) !== undefined,
    resolveCluster: (p, ref, spec) => clustersSvc.resolvePlacement(p, ref, spec),
    outbound: deps.outbound,
  });
  const nodesSvc = createNodeService({ db, audit, controller });
  const restartReplica = createReplicaRestart({ db, audit, controller, targets });
  let local: { stop(): Promise<void> } | null = null;
  const embedded = config.localAgent ? (deps.embeddedAgent ?? null) : null;
  let starting: Promise<void> | null = null;

  return {
    config,
    agents,
    controller,
    targets,
    deploymentsSvc,
    nodesSvc,
    restartReplica,
    clustersSvc,
    kubernetes,
    /** the agent this server runs as its own node: MAAS_LOCAL_AGENT on and one given; else null */
    localAgent: embedded,
    async start() {
      agents.start();
      controller!.start();
      kubernetes.start();
      if (config.localAgent && !embedded)
        log.warn('MAAS_LOCAL_AGENT is on but this process was started without an agent: no local node');
    },
    /** The server's own node, when it runs one (see Services.startLocalNode). */
    startLocalAgent() {
      if (embedded) {
        starting = startLocalAgent({
          agent: embedded,
          agents,
          config,
          dataDir: deps.dataDir,
          log,
          outbound: deps.outbound,
        }).then(
          (agent) => {
            local = agent;
          },
          (err: unknown) => log.error({ err }, 'the local agent did not start'),
        );
      }
    },
    async stop() {
      await starting;
      await local?.stop();
      await controller!.stop();
      await kubernetes.stop();
      await targets.idle();
    },
  };
}

export type Fleet = ReturnType<typeof createFleet>;
