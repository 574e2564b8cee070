import type { GpuInfo, ReplicaState } from '@maas/contracts/agent';
import type { RefSpec } from '../../lib/resolve.ts';

/**
 * The fleet API's response shapes as the CLI reads them (the server's `fleet/dto.ts`); only the
 * fields the CLI shows are listed. `packages/contracts` holds no fleet schemas yet.
 */
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
  runtimes: string[];
  cpu: { cores: number; model: string; load1: number } | null;
  memory: { total: number; free: number } | null;
  disk: { path: string; total: number; free: number } | null;
  gpus: GpuInfo[];
  port_range: [number, number];
  agent_version: string | null;
  last_heartbeat_at: string | null;
  created_at: string;
}

export interface FleetReplica {
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
  started_at: string | null;
}

export interface FleetDeployment {
  id: string;
  name: string;
  version: string;
  runtime: string;
  source: string;
  checksum: string | null;
  context_length: number | null;
  parameters: Record<string, number | boolean | string>;
  replicas: number;
  ready_replicas: number;
  revision: number;
  status: 'active' | 'deleting';
  canary: { replicas: number; weight: number } | null;
  previous_version: string | null;
  placement: { strategy: string; node_selector: Record<string, string>; cluster?: string };
  resources: { gpus: number; gpu_memory_gib: number | null };
  replica_states: FleetReplica[];
  created_at: string;
  updated_at: string;
}

export interface ReplicaLogs {
  replica_id: string;
  lines: string[];
}

export const fleetRefs = {
  node: {
    singular: 'node',
    path: '/api/v1/nodes',
    idPrefix: 'nod',
    names: (n: FleetNode) => [n.name, n.hostname],
  },
  deployment: {
    singular: 'deployment',
    path: '/api/v1/deployments',
    idPrefix: 'dep',
    names: (d: FleetDeployment) => [d.name],
  },
  replica: { singular: 'replica', path: '/api/v1/replicas', idPrefix: 'rep', names: () => [] },
} satisfies Record<string, RefSpec>;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → `1.5 KiB`. */
export function bytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${UNITS[u]}`;
}

/** `used/total` of a memory pool. */
export const usage = (m: { total: number; free: number } | null) =>
  m ? `${bytes(m.total - m.free)}/${bytes(m.total)}` : null;

/** ready, ready (cordoned), ready (draining), unreachable */
export const nodeState = (n: FleetNode) =>
  n.draining ? `${n.status} (draining)` : n.schedulable ? n.status : `${n.status} (cordoned)`;

/** One GPU as `0:A100 12.0 GiB/80.0 GiB 37%`. */
export const gpuLine = (g: GpuInfo) =>
  `${g.index}:${g.name} ${bytes(g.memory_total - g.memory_free)}/${bytes(g.memory_total)}${
    g.utilization_pct === null ? '' : ` ${g.utilization_pct}%`
  }`;

/** A replica's state with its reason and download progress. */
export function replicaState(r: FleetReplica): string {
  const progress =
    r.state === 'downloading' && r.progress
      ? ` ${r.progress.total ? `${Math.floor((100 * r.progress.bytes) / r.progress.total)}%` : bytes(r.progress.bytes)}`
      : '';
  return `${r.state}${progress}${r.reason ? ` (${r.reason})` : ''}`;
}
