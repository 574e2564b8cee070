import { api, listAll } from '../../api/client.ts';

/** Wire shapes of the fleet API (/api/v1/nodes, /deployments, /replicas, /join-tokens). */
export const RUNTIMES = ['llama-cpp', 'vllm', 'sglang', 'ollama', 'custom'] as const;
export type Runtime = (typeof RUNTIMES)[number];
export type ReplicaState =
  | 'pending'
  | 'scheduled'
  | 'downloading'
  | 'starting'
  | 'running'
  | 'failed'
  | 'stopping'
  | 'stopped';

export interface Gpu {
  index: number;
  uuid: string;
  name: string;
  vendor: 'nvidia' | 'amd';
  memory_total: number;
  memory_free: number;
  utilization_pct: number | null;
  temperature_c: number | null;
}

export interface FleetNode {
  id: string;
  name: string;
  hostname: string;
  address: string;
  labels: Record<string, string>;
  status: 'ready' | 'unreachable';
  schedulable: boolean;
  draining: boolean;
  local: boolean;
  tenant_workloads: boolean;
  runtimes: Runtime[];
  cpu: { cores: number; model: string; load1: number } | null;
  memory: { total: number; free: number } | null;
  disk: { path: string; total: number; free: number } | null;
  gpus: Gpu[];
  agent_version: string | null;
  last_heartbeat_at: string | null;
  created_at: string;
}

export interface JoinToken {
  id: string;
  name: string;
  prefix: string;
  labels: Record<string, string>;
  max_uses: number | null;
  uses: number;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface Replica {
  id: string;
  deployment_id: string;
  revision: number;
  version: string;
  node_id: string | null;
  state: ReplicaState;
  reason: string | null;
  desired: 'run' | 'stop';
  endpoint: string | null;
  port: number | null;
  gpu_indexes: number[];
  memory_bytes: number;
  restarts: number;
  progress: { bytes: number; total: number | null } | null;
  replaces: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
}

export interface Estimate {
  weights: number;
  kv_cache: number;
  overhead: number;
  total: number;
  context_length: number | null;
  method: string;
  architecture: string | null;
  notes: string[];
}

export interface Deployment {
  id: string;
  name: string;
  model_id: string | null;
  version: string;
  runtime: Runtime;
  source: string;
  context_length: number | null;
  resources: { gpus: number; gpu_memory_gib: number | null };
  estimate: Estimate | null;
  replicas: number;
  placement: { strategy: 'spread' | 'binpack'; node_selector: Record<string, string>; cluster?: string };
  revision: number;
  status: 'active' | 'deleting';
  canary: { replicas: number; weight: number } | null;
  previous_version: string | null;
  ready_replicas: number;
  replica_states: Replica[];
  created_at: string;
  updated_at: string;
}

export interface DeploymentInput {
  model: string;
  runtime: Runtime;
  source: string;
  replicas: number;
  version?: string;
  context_length?: number;
  resources?: { gpus?: number; gpu_memory_gib?: number | 'auto' };
  placement?: { strategy?: 'spread' | 'binpack' };
}

export interface Evaluation {
  fits: boolean;
  replicas: number;
  estimate: Estimate | null;
  memory_per_replica: number | null;
  placements: { node_id: string; node_name: string; gpu_indexes: number[]; port: number; score: number }[];
  funnel: { stage: string; nodes: number; dropped?: Record<string, number> }[];
  reason: string | null;
}

export interface DeploymentUpdate {
  replicas?: number;
  version?: string;
  source?: string;
  canary?: { replicas: number; weight: number };
}

export const fleetApi = {
  nodes: () => listAll<FleetNode>('/api/v1/nodes'),
  nodeAction: (id: string, action: 'cordon' | 'uncordon' | 'drain') =>
    api.post<FleetNode>(`/api/v1/nodes/${id}/${action}`),
  joinTokens: () => listAll<JoinToken>('/api/v1/join-tokens'),
  createJoinToken: (body: { name: string; max_uses?: number; labels?: Record<string, string> }) =>
    api.post<JoinToken & { token: string }>('/api/v1/join-tokens', body),
  revokeJoinToken: (id: string) => api.del(`/api/v1/join-tokens/${id}`),
  deployments: () => listAll<Deployment>('/api/v1/deployments'),
  deployment: (id: string) => api.get<Deployment>(`/api/v1/deployments/${id}`),
  createDeployment: (body: DeploymentInput) => api.post<Deployment>('/api/v1/deployments', body),
  evaluate: (body: DeploymentInput) => api.post<Evaluation>('/api/v1/deployments/evaluate', body),
  updateDeployment: (id: string, body: DeploymentUpdate) =>
    api.patch<Deployment>(`/api/v1/deployments/${id}`, body),
  rollback: (id: string) => api.post<Deployment>(`/api/v1/deployments/${id}/rollback`),
  promote: (id: string) => api.post<Deployment>(`/api/v1/deployments/${id}/promote`),
  removeDeployment: (id: string) => api.del(`/api/v1/deployments/${id}`),
  replicas: (deploymentId?: string) =>
    listAll<Replica>('/api/v1/replicas', deploymentId ? { deployment_id: deploymentId } : {}),
  replica: (id: string) => api.get<Replica>(`/api/v1/replicas/${id}`),
  replicaLogs: (id: string, tail = 200) =>
    api.get<{ replica_id: string; lines: string[] }>(`/api/v1/replicas/${id}/logs`, { tail }),
  restartReplica: (id: string) => api.post<Replica>(`/api/v1/replicas/${id}/restart`),
};

export const REPLICA_STATE_COLOR: Record<ReplicaState, string> = {
  pending: 'default',
  scheduled: 'processing',
  downloading: 'processing',
  starting: 'processing',
  running: 'success',
  failed: 'error',
  stopping: 'warning',
  stopped: 'default',
};
