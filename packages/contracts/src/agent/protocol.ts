import { z } from 'zod';

/**
 * The agent protocol, shared by `maas agent` and the server's fleet module. Sizes are bytes.
 *
 * register (join token) → node credential → status reports (heartbeat + replica states) and a watch
 * (server-sent events) that pushes the node's desired state whenever it changes.
 */

import { RUNTIMES } from './runtime-names.ts';

export const REPLICA_STATES = [
  'pending',
  'scheduled',
  'downloading',
  'starting',
  'running',
  'failed',
  'stopping',
  'stopped',
] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export const gpuInfo = z.object({
  index: z.number().int().min(0),
  uuid: z.string().max(200),
  name: z.string().max(200),
  vendor: z.enum(['nvidia', 'amd']),
  memory_total: z.number().min(0),
  memory_free: z.number().min(0),
  utilization_pct: z.number().min(0).max(100).nullable(),
  temperature_c: z.number().nullable(),
});
export type GpuInfo = z.infer<typeof gpuInfo>;

export const nodeResources = z.object({
  cpu: z.object({ cores: z.number().int().min(0), model: z.string().max(200), load1: z.number().min(0) }),
  memory: z.object({ total: z.number().min(0), free: z.number().min(0) }),
  disk: z.object({ path: z.string().max(1000), total: z.number().min(0), free: z.number().min(0) }),
  gpus: z.array(gpuInfo).max(64),
});
export type NodeResources = z.infer<typeof nodeResources>;

export const modelFile = z.object({
  path: z.string().max(2000),
  size: z.number().min(0),
  /** for a completed download: the deployment source it came from */
  source: z.string().max(2000).optional(),
});
export type ModelFile = z.infer<typeof modelFile>;

const labels = z.record(z.string().regex(/^[A-Za-z0-9._/-]{1,63}$/), z.string().max(200));

export const registerRequest = z.strictObject({
  join_token: z.string().min(1).max(200),
  /** re-registering a node that exists already: the credential it was issued at first registration */
  node_token: z.string().min(1).max(200).optional(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ - (at most 63)'),
  hostname: z.string().max(255),
  labels: labels.optional(),
});
export const registerResponse = z.object({
  node_id: z.string(),
  node_token: z.string(),
  heartbeat_interval_ms: z.number().int(),
});
export type RegisterResponse = z.infer<typeof registerResponse>;

export const replicaReport = z.object({
  id: z.string().max(100),
  state: z.enum(REPLICA_STATES),
  reason: z.string().max(2000).nullable().optional(),
  /** a failure the node cannot get past (file missing, port taken): place the replica elsewhere */
  fatal: z.boolean().optional(),
  restarts: z.number().int().min(0).optional(),
  pid: z.number().int().nullable().optional(),
  progress: z
    .object({ bytes: z.number().min(0), total: z.number().min(0).nullable() })
    .nullable()
    .optional(),
  /** log lines since the previous report */
  logs: z.array(z.string().max(4000)).max(500).optional(),
});
export type ReplicaReport = z.infer<typeof replicaReport>;

export const statusReport = z.strictObject({
  agent_version: z.string().max(50),
  hostname: z.string().max(255),
  /** host the server (gateway) uses to reach this node's runtimes */
  address: z.string().max(255),
  resources: nodeResources,
  runtimes: z.array(z.enum(RUNTIMES)),
  files: z.array(modelFile).max(10_000),
  model_dirs: z.array(z.string().max(2000)).max(50),
  port_range: z.tuple([z.number().int().min(1), z.number().int().max(65535)]),
  replicas: z.array(replicaReport).max(1000),
});
export type StatusReport = z.infer<typeof statusReport>;

export const statusResponse = z.object({ desired_version: z.string() });

/** One replica the node should run. Immutable: a change of spec is a new replica. */
export const desiredReplica = z.object({
  id: z.string(),
  deployment_id: z.string(),
  /** the name the runtime serves the model under (the gateway's upstream_model) */
  model_name: z.string(),
  runtime: z.enum(RUNTIMES),
  source: z.string(),
  checksum: z.string().nullable(),
  port: z.number().int(),
  gpu_indexes: z.array(z.number().int()),
  /** memory claimed per GPU (or host memory when no GPU), for runtimes that take a fraction */
  memory_bytes: z.number(),
  context_length: z.number().int().nullable(),
  runtime_args: z.array(z.string()),
  /** the preset's typed parameters (checked again by the adapter) */
  parameters: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
  env: z.record(z.string(), z.string()),
  command: z.string().nullable(),
  health_path: z.string().nullable(),
  /**
   * The credential the runtime must require on its API (`Authorization: Bearer …`): new at every
   * placement; the gateway's provider for the replica holds it. Null only for replicas placed by a
   * server older than credentials: the agent refuses to start those.
   */
  api_key: z.string().nullable(),
});
export type DesiredReplica = z.infer<typeof desiredReplica>;

export const desiredState = z.object({
  version: z.string(),
  node_id: z.string(),
  replicas: z.array(desiredReplica),
});
export type DesiredState = z.infer<typeof desiredState>;
