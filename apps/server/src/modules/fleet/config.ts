import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  MAAS_LOCAL_AGENT: bool.optional(),
  MAAS_NODE_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  MAAS_HEARTBEAT_MS: z.coerce.number().int().min(50).default(5_000),
  MAAS_FLEET_RECONCILE_MS: z.coerce.number().int().min(50).default(2_000),
  MAAS_REPLICA_DRAIN_MS: z.coerce.number().int().min(0).default(2_000),
  MAAS_KUBERNETES_SYNC_MS: z.coerce.number().int().min(50).default(5_000),
  MAAS_LOCAL_AGENT_PORTS: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'FROM-TO')
    .default('31000-31999'),
  HF_ENDPOINT: z.url().optional(),
});

export interface FleetConfig {
  /** run an agent inside `maas serve` (default: on, except under NODE_ENV=test) */
  localAgent: boolean;
  /** a node that has not reported for this long is unreachable and its replicas move */
  nodeTimeoutMs: number;
  /** how often agents report */
  heartbeatMs: number;
  /** how often the controller reconciles deployments, replicas and nodes */
  reconcileMs: number;
  /** between taking a replica out of the gateway and stopping it (in-flight requests finish) */
  replicaDrainMs: number;
  /** how often Kubernetes clusters are applied to and read back (./kubernetes) */
  kubernetesSyncMs: number;
  localAgentPorts: [number, number];
  /** stands in for https://huggingface.co (mirrors, tests) */
  hfEndpoint: string | undefined;
}

/** The fleet's settings, from the environment (zod-parsed, one line naming a bad variable). */
export function loadFleetConfig(env: NodeJS.ProcessEnv, nodeEnv: string): FleetConfig {
  const raw = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in schema.shape && v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const [from, to] = e.MAAS_LOCAL_AGENT_PORTS.split('-').map(Number) as [number, number];
  return {
    localAgent: e.MAAS_LOCAL_AGENT ?? nodeEnv !== 'test',
    nodeTimeoutMs: e.MAAS_NODE_TIMEOUT_MS,
    heartbeatMs: e.MAAS_HEARTBEAT_MS,
    reconcileMs: e.MAAS_FLEET_RECONCILE_MS,
    replicaDrainMs: e.MAAS_REPLICA_DRAIN_MS,
    kubernetesSyncMs: e.MAAS_KUBERNETES_SYNC_MS,
    localAgentPorts: [from, to],
    hfEndpoint: e.HF_ENDPOINT,
  };
}
