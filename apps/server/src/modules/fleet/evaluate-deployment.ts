import type { Db } from '../../db/client.ts';
import type { CreateDeploymentBody } from './bodies.ts';
import { loadCluster, placementRequest, replicaMemory } from './cluster-view.ts';
import { placeReplicas } from './scheduler/index.ts';
import type { DeploymentSpec } from './schema.ts';

/** Where `body.replicas` replicas of the spec would go now, the scheduler's funnel, and why not. */
export async function evaluateDeployment(db: Db, body: CreateDeploymentBody, spec: DeploymentSpec) {
  const memory = replicaMemory(spec);
  const cluster = await loadCluster(db);
  const placement = {
    strategy: body.placement?.strategy ?? 'spread',
    node_selector: body.placement?.node_selector ?? {},
  } as const;
  if ('unknown' in memory) {
    return {
      fits: false,
      replicas: body.replicas,
      estimate: spec.estimate,
      memory_per_replica: null,
      placements: [],
      funnel: [],
      reason: memory.unknown,
    };
  }
  const result = placeReplicas(
    cluster.nodes,
    cluster.allocations,
    placementRequest({ id: 'dep_dry_run', placement }, spec, memory.bytes),
    body.replicas,
  );
  return {
    fits: result.unplaced === 0,
    replicas: body.replicas,
    estimate: spec.estimate,
    memory_per_replica: memory.bytes,
    placements: result.placements.map((pl) => ({
      node_id: pl.nodeId,
      node_name: pl.nodeName,
      gpu_indexes: pl.gpuIndexes,
      port: pl.port,
      score: pl.score,
    })),
    funnel: result.funnel,
    reason: result.reason,
  };
}
