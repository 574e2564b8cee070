import type { ApiItem } from '@maas/contracts';
import type { GpuInfo } from '@maas/contracts/agent';
import type { ResponseOf } from '../../lib/api-client.ts';
import { refSpec } from '../../lib/resolve.ts';

/** The fleet API's shapes, as the server's OpenAPI document describes them. */
export type FleetNode = ApiItem<'/api/v1/nodes'>;
export type FleetReplica = ApiItem<'/api/v1/replicas'>;
export type FleetDeployment = ApiItem<'/api/v1/deployments'>;
export type ReplicaLogs = ResponseOf<'/api/v1/replicas/{id}/logs'>;

export const fleetRefs = {
  node: refSpec({
    singular: 'node',
    path: '/api/v1/nodes',
    idPrefix: 'nod',
    names: (n) => [n.name, n.hostname],
  }),
  deployment: refSpec({
    singular: 'deployment',
    path: '/api/v1/deployments',
    idPrefix: 'dep',
    names: (d) => [d.name],
  }),
  replica: refSpec({ singular: 'replica', path: '/api/v1/replicas', idPrefix: 'rep', names: () => [] }),
};

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
