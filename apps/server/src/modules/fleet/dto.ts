import { gpuInfo, REPLICA_STATES, RUNTIMES, redactLine } from '@maas/contracts/agent';
import { z } from 'zod';
import type { DeploymentRow, DeploymentSpec, JoinTokenRow, NodeRow, ReplicaRow } from './schema.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** May tenants' replicas run on the node? The local node (inside the server) says no unless told. */
export const tenantWorkloadsOf = (n: Pick<NodeRow, 'local' | 'tenantWorkloads'>) =>
  n.tenantWorkloads ?? !n.local;

export const nodeDto = z.object({
  id: z.string(),
  name: z.string(),
  hostname: z.string(),
  address: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.enum(['ready', 'unreachable']),
  schedulable: z.boolean(),
  draining: z.boolean(),
  local: z.boolean(),
  tenant_workloads: z
    .boolean()
    .describe("tenants' deployments may run here (default: every node but the local one)"),
  runtimes: z.array(z.enum(RUNTIMES)),
  cpu: z.object({ cores: z.number(), model: z.string(), load1: z.number() }).nullable(),
  memory: z.object({ total: z.number(), free: z.number() }).nullable(),
  disk: z.object({ path: z.string(), total: z.number(), free: z.number() }).nullable(),
  gpus: z.array(gpuInfo),
  files: z.array(z.object({ path: z.string(), size: z.number(), source: z.string().optional() })),
  port_range: z.tuple([z.number(), z.number()]),
  agent_version: z.string().nullable(),
  last_heartbeat_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function toNodeDto(n: NodeRow): z.infer<typeof nodeDto> {
  return {
    id: n.id,
    name: n.name,
    hostname: n.hostname,
    address: n.address,
    labels: n.labels,
    status: n.status,
    schedulable: n.schedulable,
    draining: n.draining,
    local: n.local,
    tenant_workloads: tenantWorkloadsOf(n),
    runtimes: n.runtimes,
    cpu: n.resources?.cpu ?? null,
    memory: n.resources?.memory ?? null,
    disk: n.resources?.disk ?? null,
    gpus: n.resources?.gpus ?? [],
    files: n.files,
    port_range: [n.portFrom, n.portTo],
    agent_version: n.agentVersion,
    last_heartbeat_at: iso(n.lastHeartbeatAt),
    created_at: n.createdAt.toISOString(),
    updated_at: n.updatedAt.toISOString(),
  };
}

export const joinTokenDto = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  labels: z.record(z.string(), z.string()),
  max_uses: z.number().nullable(),
  uses: z.number(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  created_at: z.string(),
});

export function toJoinTokenDto(t: JoinTokenRow): z.infer<typeof joinTokenDto> {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    labels: t.labels,
    max_uses: t.maxUses,
    uses: t.uses,
    expires_at: iso(t.expiresAt),
    revoked_at: iso(t.revokedAt),
    created_at: t.createdAt.toISOString(),
  };
}

const estimateDto = z
  .object({
    weights: z.number(),
    kv_cache: z.number(),
    overhead: z.number(),
    total: z.number(),
    context_length: z.number().nullable(),
    method: z.string(),
    architecture: z.string().nullable(),
    notes: z.array(z.string()),
  })
  .nullable();

const specDto = z.object({
  version: z.string(),
  runtime: z.enum(RUNTIMES),
  source: z.string(),
  checksum: z.string().nullable(),
  context_length: z.number().nullable(),
  runtime_args: z.array(z.string()),
  parameters: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
  env: z
    .record(z.string(), z.literal('***'))
    .describe('the names of the runtime environment variables; values are write-only'),
  command: z.string().nullable(),
  health_path: z.string().nullable(),
  resources: z.object({ gpus: z.number(), gpu_memory_gib: z.number().nullable() }),
  estimate: estimateDto,
});

const toSpecDto = (s: DeploymentSpec): z.infer<typeof specDto> => ({
  version: s.version,
  runtime: s.runtime,
  source: s.source,
  checksum: s.checksum,
  context_length: s.context_length,
  runtime_args: s.runtime_args,
  parameters: s.parameters ?? {},
  env: Object.fromEntries(Object.keys(s.env).map((k) => [k, '***' as const])),
  command: s.command,
  health_path: s.health_path,
  resources: s.resources,
  estimate: s.estimate,
});

export const replicaDto = z.object({
  id: z.string(),
  deployment_id: z.string(),
  revision: z.number(),
  version: z.string(),
  node_id: z.string().nullable(),
  state: z.enum(REPLICA_STATES),
  reason: z.string().nullable(),
  desired: z.enum(['run', 'stop']),
  endpoint: z.string().nullable(),
  port: z.number().nullable(),
  gpu_indexes: z.array(z.number()),
  memory_bytes: z.number(),
  restarts: z.number(),
  progress: z.object({ bytes: z.number(), total: z.number().nullable() }).nullable(),
  replaces: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
});

export function toReplicaDto(r: ReplicaRow): z.infer<typeof replicaDto> {
  return {
    id: r.id,
    deployment_id: r.deploymentId,
    revision: r.revision,
    version: r.spec.version,
    node_id: r.nodeId,
    state: r.state,
    // the agent's reason may quote a runtime log line: secret shapes are blanked out again here
    reason: r.reason === null ? null : redactLine(r.reason),
    desired: r.desired,
    endpoint: r.endpoint,
    port: r.port,
    gpu_indexes: r.gpuIndexes,
    memory_bytes: r.memoryBytes,
    restarts: r.restarts,
    progress: r.progress,
    replaces: r.replaces,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    started_at: iso(r.startedAt),
  };
}

export const deploymentDto = specDto.extend({
  id: z.string(),
  org_id: z.string(),
  name: z.string(),
  model_id: z.string().nullable(),
  replicas: z.number(),
  placement: z.object({
    strategy: z.enum(['spread', 'binpack']),
    node_selector: z.record(z.string(), z.string()),
    cluster: z.string().optional(),
  }),
  revision: z.number(),
  status: z.enum(['active', 'deleting']),
  canary: z.object({ replicas: z.number(), weight: z.number() }).nullable(),
  previous_version: z.string().nullable(),
  ready_replicas: z.number(),
  replica_states: z.array(replicaDto),
  created_at: z.string(),
  updated_at: z.string(),
});

export function toDeploymentDto(d: DeploymentRow, replicas: ReplicaRow[]): z.infer<typeof deploymentDto> {
  return {
    ...toSpecDto(d.spec),
    id: d.id,
    org_id: d.orgId,
    name: d.name,
    model_id: d.modelId,
    replicas: d.replicas,
    placement: d.placement,
    revision: d.revision,
    status: d.status,
    canary: d.canary,
    previous_version: d.previousSpec?.version ?? null,
    ready_replicas: replicas.filter((r) => r.state === 'running' && r.desired === 'run').length,
    replica_states: replicas.map(toReplicaDto),
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
