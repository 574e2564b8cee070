import { parseSource } from '@maas/contracts/agent';
import { and, asc, eq, inArray, isNotNull, ne } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { tenantWorkloadsOf } from './dto.ts';
import { formatGiB } from './estimate/index.ts';
import type { Allocation, PlacementRequest, SchedNode } from './scheduler/index.ts';
import {
  type DeploymentRow,
  type DeploymentSpec,
  type NodeRow,
  nodes,
  type ReplicaRow,
  replicas,
} from './schema.ts';

const GIB = 1024 ** 3;

export function toSchedNode(n: NodeRow): SchedNode {
  const files = new Set<string>();
  for (const f of n.files) {
    files.add(f.path);
    if (f.source) files.add(f.source);
  }
  return {
    id: n.id,
    name: n.name,
    status: n.status,
    schedulable: n.schedulable && !n.draining,
    cordonReason: n.draining ? 'draining' : 'cordoned',
    labels: n.labels,
    tenantWorkloads: tenantWorkloadsOf(n),
    runtimes: n.runtimes,
    files,
    modelDirs: n.modelDirs,
    gpus: (n.resources?.gpus ?? []).map((g) => ({
      index: g.index,
      total: g.memory_total,
      free: g.memory_free,
    })),
    memory: n.resources?.memory ?? { total: 0, free: 0 },
    portRange: [n.portFrom, n.portTo],
  };
}

export function toAllocation(r: ReplicaRow): Allocation {
  return {
    nodeId: r.nodeId!,
    deploymentId: r.deploymentId,
    gpuIndexes: r.gpuIndexes,
    memoryBytes: r.memoryBytes,
    port: r.port,
    loaded: r.state === 'running',
  };
}

/** Every node, and everything promised on them (replicas placed and not yet stopped). */
export async function loadCluster(
  tx: DbOrTx,
): Promise<{ nodes: SchedNode[]; rows: NodeRow[]; allocations: Allocation[] }> {
  const rows = await tx.select().from(nodes).orderBy(asc(nodes.name));
  const placed = await tx
    .select()
    .from(replicas)
    .where(and(isNotNull(replicas.nodeId), ne(replicas.state, 'stopped')));
  return { nodes: rows.map(toSchedNode), rows, allocations: placed.map(toAllocation) };
}

/** What one replica needs in bytes, or why that is unknown. */
export function replicaMemory(spec: DeploymentSpec): { bytes: number } | { unknown: string } {
  if (spec.resources.gpu_memory_gib !== null)
    return { bytes: Math.round(spec.resources.gpu_memory_gib * GIB) };
  if (spec.estimate) return { bytes: spec.estimate.total };
  return {
    unknown:
      'the memory this model needs is unknown (no header or config could be read); set resources.gpu_memory_gib',
  };
}

export function placementRequest(
  dep: Pick<DeploymentRow, 'id' | 'placement'>,
  spec: DeploymentSpec,
  bytes: number,
  excluded: readonly string[] = [],
): PlacementRequest {
  let localPath: string | null = null;
  try {
    const parsed = parseSource(spec.source);
    if (parsed.kind === 'path') localPath = parsed.path;
  } catch {}
  return {
    deploymentId: dep.id,
    runtime: spec.runtime,
    gpus: spec.resources.gpus,
    memoryBytes: bytes,
    nodeSelector: dep.placement.node_selector,
    strategy: dep.placement.strategy,
    tenant: spec.platform_admin !== true,
    localPath,
    source: spec.source,
    excludeNodes: new Set(excluded),
  };
}

export async function replicasOfNodes(tx: DbOrTx, nodeIds: string[]): Promise<ReplicaRow[]> {
  if (nodeIds.length === 0) return [];
  return tx.select().from(replicas).where(inArray(replicas.nodeId, nodeIds));
}

export async function nodeById(tx: DbOrTx, id: string): Promise<NodeRow | undefined> {
  const [row] = await tx.select().from(nodes).where(eq(nodes.id, id));
  return row;
}

export { formatGiB };
