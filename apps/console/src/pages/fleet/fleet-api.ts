import type { ApiBody, ApiItem, ApiResponse } from '@maas/contracts';
import { api, listAll } from '../../api/client.ts';

/** Shapes of the fleet API (/api/v1/nodes, /deployments, /replicas, /join-tokens), from its OpenAPI document. */
export const RUNTIMES = ['llama-cpp', 'vllm', 'sglang', 'ollama', 'custom'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export type FleetNode = ApiItem<'/api/v1/nodes'>;
export type Gpu = FleetNode['gpus'][number];
export type JoinToken = ApiItem<'/api/v1/join-tokens'>;
export type Replica = ApiItem<'/api/v1/replicas'>;
export type ReplicaState = Replica['state'];
export type Deployment = ApiItem<'/api/v1/deployments'>;
export type Estimate = NonNullable<Deployment['estimate']>;
export type DeploymentInput = ApiBody<'/api/v1/deployments', 'post'>;
export type Evaluation = ApiResponse<'/api/v1/deployments/evaluate', 'post'>;
export type DeploymentUpdate = ApiBody<'/api/v1/deployments/{id}', 'patch'>;
type ReplicaLogs = ApiResponse<'/api/v1/replicas/{id}/logs'>;
type NewJoinToken = ApiResponse<'/api/v1/join-tokens', 'post'>;

export const fleetApi = {
  nodes: () => listAll<FleetNode>('/api/v1/nodes'),
  nodeAction: (id: string, action: 'cordon' | 'uncordon' | 'drain') =>
    api.post<FleetNode>(`/api/v1/nodes/${id}/${action}`),
  joinTokens: () => listAll<JoinToken>('/api/v1/join-tokens'),
  createJoinToken: (body: { name: string; max_uses?: number; labels?: Record<string, string> }) =>
    api.post<NewJoinToken>('/api/v1/join-tokens', body),
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
  replicaLogs: (id: string, tail = 200) => api.get<ReplicaLogs>(`/api/v1/replicas/${id}/logs`, { tail }),
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
