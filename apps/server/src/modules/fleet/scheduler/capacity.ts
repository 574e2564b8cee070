import type { Allocation, SchedNode } from './types.ts';

/** Free memory per GPU and on the host, after what maas has promised and what others use. */
export interface NodeCapacity {
  node: SchedNode;
  gpuFree: Map<number, number>;
  hostFree: number;
  usedPorts: Set<number>;
  /** replicas of each deployment on the node */
  perDeployment: Map<string, number>;
}

/**
 * Reported free memory lags and includes foreign processes; promises are exact but say nothing of
 * others. So: foreign use = (total − reported free) − what our loaded replicas hold, and
 * free = total − foreign use − everything we promised (loaded or not).
 */
export function capacityOf(node: SchedNode, allocations: readonly Allocation[]): NodeCapacity {
  const claimed = new Map<number, number>();
  const loaded = new Map<number, number>();
  let hostClaimed = 0;
  let hostLoaded = 0;
  const usedPorts = new Set<number>();
  const perDeployment = new Map<string, number>();
  for (const a of allocations) {
    if (a.port !== null) usedPorts.add(a.port);
    perDeployment.set(a.deploymentId, (perDeployment.get(a.deploymentId) ?? 0) + 1);
    if (a.gpuIndexes.length === 0) {
      hostClaimed += a.memoryBytes;
      if (a.loaded) hostLoaded += a.memoryBytes;
    }
    for (const g of a.gpuIndexes) {
      claimed.set(g, (claimed.get(g) ?? 0) + a.memoryBytes);
      if (a.loaded) loaded.set(g, (loaded.get(g) ?? 0) + a.memoryBytes);
    }
  }
  const gpuFree = new Map<number, number>();
  for (const gpu of node.gpus) {
    const foreign = Math.max(0, gpu.total - gpu.free - (loaded.get(gpu.index) ?? 0));
    gpuFree.set(gpu.index, Math.max(0, gpu.total - foreign - (claimed.get(gpu.index) ?? 0)));
  }
  const hostForeign = Math.max(0, node.memory.total - node.memory.free - hostLoaded);
  const hostFree = Math.max(0, node.memory.total - hostForeign - hostClaimed);
  return { node, gpuFree, hostFree, usedPorts, perDeployment };
}

export function freePort(cap: NodeCapacity): number | null {
  const [from, to] = cap.node.portRange;
  for (let p = from; p <= to; p++) if (!cap.usedPorts.has(p)) return p;
  return null;
}
