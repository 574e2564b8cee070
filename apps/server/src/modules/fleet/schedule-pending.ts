import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { loadCluster, placementRequest, replicaMemory } from './cluster-view.ts';
import { type PlacementOutcome, placementFailureClass } from './placement-class.ts';
import { placeReplicas } from './scheduler/index.ts';
import { deployments, type NodeRow, type ReplicaRow, replicas } from './schema.ts';

export function endpointOf(node: Pick<NodeRow, 'address'>, port: number): string {
  const host = node.address.includes(':') ? `[${node.address}]` : node.address || '127.0.0.1';
  return `http://${host}:${port}/v1`;
}

/**
 * Places every pending replica it can, oldest first, in one transaction that holds the fleet's
 * scheduling lock (so two servers never promise the same memory or port). Replicas that do not fit
 * keep `pending` with the scheduler's reason. Each placement gets a new credential that the
 * replica's runtime requires. Returns the nodes that got replicas.
 */
export async function schedulePending(
  tx: Tx,
  /** a new sealed replica credential (each placement gets its own) */
  issueKey: () => string,
  now = new Date(),
  /** told of each replica's placement attempt (metrics) */
  onPlacement?: (outcome: PlacementOutcome) => void,
): Promise<{ nodeIds: Set<string>; deploymentIds: Set<string> }> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('fleet:schedule'))`);
  const pending = await tx
    .select()
    .from(replicas)
    .where(and(eq(replicas.state, 'pending'), eq(replicas.desired, 'run')))
    .orderBy(asc(replicas.createdAt), asc(replicas.id));
  const nodeIds = new Set<string>();
  const deploymentIds = new Set<string>();
  if (pending.length === 0) return { nodeIds, deploymentIds };
  const deps = await tx
    .select()
    .from(deployments)
    .where(inArray(deployments.id, [...new Set(pending.map((r) => r.deploymentId))]));
  const depById = new Map(deps.map((d) => [d.id, d]));
  const cluster = await loadCluster(tx);
  const nodeRows = new Map(cluster.rows.map((n) => [n.id, n]));
  const allocations = [...cluster.allocations];

  // Replicas of one deployment revision with the same exclusions are placed together.
  const groups = new Map<string, ReplicaRow[]>();
  for (const r of pending) {
    const key = `${r.deploymentId}:${r.revision}:${[...r.excludedNodes].sort().join(',')}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const dep = depById.get(first.deploymentId);
    // a deployment placed on a Kubernetes cluster: its replicas are pods (./kubernetes/reconcile.ts)
    if (!dep || dep.placement.cluster) continue;
    const memory = replicaMemory(first.spec);
    if ('unknown' in memory) {
      await setReason(tx, group, memory.unknown, now);
      for (const _ of group) onPlacement?.('unknown_memory');
      continue;
    }
    const req = placementRequest(dep, first.spec, memory.bytes, first.excludedNodes);
    const result = placeReplicas(cluster.nodes, allocations, req, group.length);
    const failedAs = result.unplaced > 0 ? placementFailureClass(result) : 'capacity';
    for (let i = 0; i < group.length; i++) {
      const r = group[i]!;
      const p = result.placements[i];
      onPlacement?.(p ? 'placed' : failedAs);
      if (!p) {
        await setReason(tx, [r], result.reason ?? 'does not fit', now);
        continue;
      }
      const node = nodeRows.get(p.nodeId)!;
      await tx
        .update(replicas)
        .set({
          nodeId: p.nodeId,
          state: 'scheduled',
          reason: null,
          port: p.port,
          gpuIndexes: p.gpuIndexes,
          memoryBytes: p.memoryBytes,
          endpoint: endpointOf(node, p.port),
          apiKeySealed: issueKey(),
          progress: null,
          updatedAt: now,
        })
        .where(eq(replicas.id, r.id));
      allocations.push({
        nodeId: p.nodeId,
        deploymentId: dep.id,
        gpuIndexes: p.gpuIndexes,
        memoryBytes: p.memoryBytes,
        port: p.port,
        loaded: false,
      });
      nodeIds.add(p.nodeId);
      deploymentIds.add(dep.id);
    }
  }
  return { nodeIds, deploymentIds };
}

async function setReason(tx: Tx, rows: ReplicaRow[], reason: string, now: Date): Promise<void> {
  const changed = rows.filter((r) => r.reason !== reason).map((r) => r.id);
  if (changed.length === 0) return;
  await tx.update(replicas).set({ reason, updatedAt: now }).where(inArray(replicas.id, changed));
}
