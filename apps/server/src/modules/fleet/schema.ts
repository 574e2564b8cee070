import type {
  ModelFile,
  NodeResources,
  ReplicaState,
  RuntimeName,
  RuntimeParameters,
} from '@maas/contracts/agent';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';
import type { MemoryEstimate } from './estimate/index.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const NODE_STATUSES = ['ready', 'unreachable'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/**
 * GPU (or CPU) machines running `maas agent`. Nodes are platform resources shared by every org:
 * only platform admins see or change them. `token_hash` is the node credential (SHA-256).
 */
export const nodes = pgTable('nodes', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  hostname: text('hostname').notNull().default(''),
  /** host the gateway uses to reach the node's runtimes */
  address: text('address').notNull().default(''),
  labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  status: text('status', { enum: NODE_STATUSES }).notNull().default('ready'),
  /** false after cordon or drain: no new replicas */
  schedulable: boolean('schedulable').notNull().default(true),
  draining: boolean('draining').notNull().default(false),
  resources: jsonb('resources').$type<NodeResources | null>(),
  runtimes: jsonb('runtimes').$type<RuntimeName[]>().notNull().default([]),
  files: jsonb('files').$type<ModelFile[]>().notNull().default([]),
  modelDirs: jsonb('model_dirs').$type<string[]>().notNull().default([]),
  portFrom: integer('port_from').notNull().default(40000),
  portTo: integer('port_to').notNull().default(40999),
  agentVersion: text('agent_version'),
  tokenHash: text('token_hash'),
  joinTokenId: text('join_token_id'),
  /** the agent inside `maas serve` (embedded mode) */
  local: boolean('local').notNull().default(false),
  /**
   * may replicas of tenants' deployments (not written by a platform admin) run here? null: the
   * default, false for the local node (it runs as the server's user), true for every other node
   */
  tenantWorkloads: boolean('tenant_workloads'),
  lastHeartbeatAt: ts('last_heartbeat_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** One-time secrets that let an agent register; shown once, stored as a hash. */
export const joinTokens = pgTable('join_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  prefix: text('prefix').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  /** labels given to nodes that join with this token */
  labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  maxUses: integer('max_uses'),
  uses: integer('uses').notNull().default(0),
  expiresAt: ts('expires_at'),
  revokedAt: ts('revoked_at'),
  createdBy: text('created_by'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export interface DeploymentResources {
  gpus: number;
  /** per replica; null: estimated from the model */
  gpu_memory_gib: number | null;
}

export interface DeploymentPlacement {
  strategy: 'spread' | 'binpack';
  node_selector: Record<string, string>;
  /** a Kubernetes cluster (its id) that runs the replicas instead of the nodes; absent: the nodes */
  cluster?: string;
}

/** What a replica runs: a deployment's spec at one revision (rolling updates move between them). */
export interface DeploymentSpec {
  version: string;
  runtime: RuntimeName;
  source: string;
  checksum: string | null;
  context_length: number | null;
  runtime_args: string[];
  /** the preset's typed parameters (checked against the runtime) */
  parameters?: RuntimeParameters;
  /** write-only in the API: responses show the names only */
  env: Record<string, string>;
  command: string | null;
  health_path: string | null;
  resources: DeploymentResources;
  /** what one replica needs, worked out when the spec was set */
  estimate: MemoryEstimate | null;
  /** written by a platform admin: may hold privileged settings and run on nodes closed to tenants */
  platform_admin?: boolean;
  /** only in `previous_spec`: the revision it had, so a rollback returns to its replicas */
  revision?: number;
}

/** Models an org runs on the fleet. Desired state lives here and in `replicas`, never only in an agent. */
export const deployments = pgTable(
  'deployments',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    /** the model name clients call through the gateway */
    name: text('name').notNull(),
    replicas: integer('replicas').notNull(),
    placement: jsonb('placement').$type<DeploymentPlacement>().notNull(),
    revision: integer('revision').notNull().default(1),
    spec: jsonb('spec').$type<DeploymentSpec>().notNull(),
    /** the spec before the last update, for rollback */
    previousSpec: jsonb('previous_spec').$type<DeploymentSpec | null>(),
    /** during a canary: replicas and traffic share of the new revision; null otherwise */
    canary: jsonb('canary').$type<{ replicas: number; weight: number } | null>(),
    status: text('status', { enum: ['active', 'deleting'] })
      .notNull()
      .default('active'),
    /** the registry model the fleet keeps in step with the running replicas */
    modelId: text('model_id'),
    createdBy: text('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('deployments_org_name_uq').on(t.orgId, t.name)],
);

export const replicas = pgTable(
  'replicas',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    spec: jsonb('spec').$type<DeploymentSpec>().notNull(),
    nodeId: text('node_id').references(() => nodes.id, { onDelete: 'set null' }),
    state: text('state').$type<ReplicaState>().notNull().default('pending'),
    /** why it is pending or failed, in plain words */
    reason: text('reason'),
    /** run: keep it running; stop: take it out of the gateway and stop it */
    desired: text('desired', { enum: ['run', 'stop'] })
      .notNull()
      .default('run'),
    port: integer('port'),
    gpuIndexes: jsonb('gpu_indexes').$type<number[]>().notNull().default([]),
    /** memory promised per GPU, or host memory with no GPU */
    memoryBytes: bigint('memory_bytes', { mode: 'number' }).notNull().default(0),
    restarts: integer('restarts').notNull().default(0),
    progress: jsonb('progress').$type<{ bytes: number; total: number | null } | null>(),
    logTail: jsonb('log_tail').$type<string[]>().notNull().default([]),
    /** nodes where it failed for good (file missing, port taken): not placed there again */
    excludedNodes: jsonb('excluded_nodes').$type<string[]>().notNull().default([]),
    /** a replica this one replaces (drain, rolling update): that one stops once this one runs */
    replaces: text('replaces'),
    /** base URL of its OpenAI-compatible API once placed, e.g. http://10.0.0.7:40001/v1 */
    endpoint: text('endpoint'),
    /**
     * The credential its runtime requires (`Authorization: Bearer …`), new at every placement,
     * sealed with the server's SecretBox; only the agent (desired state) and its provider see it.
     */
    apiKeySealed: text('api_key_sealed'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
  },
  (t) => [index('replicas_deployment_idx').on(t.deploymentId), index('replicas_node_idx').on(t.nodeId)],
);

/** Where a cluster's runtimes find model files: a PersistentVolumeClaim, or a path on its nodes. */
export type ClusterModelVolume =
  | { kind: 'pvc'; claim_name: string; mount_path: string; read_only: boolean }
  | { kind: 'host_path'; path: string; mount_path: string; read_only: boolean };

export interface ClusterToleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/**
 * Kubernetes clusters registered as placement targets (platform resources, like nodes): a
 * deployment placed on one becomes a Kubernetes Deployment + Service there. The service-account
 * token is sealed with the server's SecretBox and never returned.
 */
export const clusters = pgTable('clusters', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** https://… of the Kubernetes API server */
  apiServer: text('api_server').notNull(),
  /** PEM of the CA that signed the API server's certificate; null: the system's CAs */
  caCert: text('ca_cert'),
  tokenSealed: text('token_sealed').notNull(),
  namespace: text('namespace').notNull(),
  gpuResource: text('gpu_resource').notNull().default('nvidia.com/gpu'),
  nodeSelector: jsonb('node_selector').$type<Record<string, string>>().notNull().default({}),
  tolerations: jsonb('tolerations').$type<ClusterToleration[]>().notNull().default([]),
  /** container image per runtime (vllm, sglang) */
  images: jsonb('images').$type<Record<string, string>>().notNull().default({}),
  modelVolume: jsonb('model_volume').$type<ClusterModelVolume | null>(),
  /** ClusterIP: maas runs in the cluster; LoadBalancer: the gateway uses the Service's external address */
  serviceType: text('service_type', { enum: ['ClusterIP', 'LoadBalancer'] })
    .notNull()
    .default('ClusterIP'),
  servicePort: integer('service_port').notNull().default(8000),
  /** may deployments of tenants (not written by a platform admin) be placed here? */
  tenantWorkloads: boolean('tenant_workloads').notNull().default(true),
  /** the last reconcile's outcome: null when it reached the API server */
  lastError: text('last_error'),
  lastSyncAt: ts('last_sync_at'),
  createdBy: text('created_by'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export type ClusterRow = typeof clusters.$inferSelect;
export type NodeRow = typeof nodes.$inferSelect;
export type JoinTokenRow = typeof joinTokens.$inferSelect;
export type DeploymentRow = typeof deployments.$inferSelect;
export type ReplicaRow = typeof replicas.$inferSelect;
