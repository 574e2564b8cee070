import { capacityOf, freePort, type NodeCapacity } from './capacity.ts';
import { explainFunnel } from './explain.ts';
import { filterNodes, hasFile } from './filter-nodes.ts';
import type { Allocation, Placement, PlacementRequest, PlacementResult, SchedNode } from './types.ts';

interface Candidate {
  cap: NodeCapacity;
  gpuIndexes: number[];
  perUnit: number;
  port: number;
  score: number;
}

/** The GPUs (or host memory) a replica would take on one node, or why it does not fit. */
function candidateOn(cap: NodeCapacity, req: PlacementRequest): Omit<Candidate, 'score' | 'port'> | null {
  if (req.gpus === 0) {
    return cap.hostFree >= req.memoryBytes ? { cap, gpuIndexes: [], perUnit: req.memoryBytes } : null;
  }
  if (cap.node.gpus.length < req.gpus) return null;
  const perGpu = Math.ceil(req.memoryBytes / req.gpus);
  const fitting = cap.node.gpus
    .map((g) => ({ index: g.index, free: cap.gpuFree.get(g.index) ?? 0 }))
    .filter((g) => g.free >= perGpu);
  if (fitting.length < req.gpus) return null;
  // binpack: the tightest GPUs that fit; spread: the emptiest.
  fitting.sort(
    (a, b) => (req.strategy === 'binpack' ? a.free - b.free : b.free - a.free) || a.index - b.index,
  );
  return {
    cap,
    gpuIndexes: fitting
      .slice(0, req.gpus)
      .map((g) => g.index)
      .sort((a, b) => a - b),
    perUnit: perGpu,
  };
}

function score(c: Omit<Candidate, 'score'>, req: PlacementRequest): number {
  const { cap } = c;
  const totals = c.gpuIndexes.length
    ? c.gpuIndexes.map((i) => cap.node.gpus.find((g) => g.index === i)!.total)
    : [cap.node.memory.total];
  const frees = c.gpuIndexes.length ? c.gpuIndexes.map((i) => cap.gpuFree.get(i)!) : [cap.hostFree];
  const total = totals.reduce((a, b) => a + b, 0) || 1;
  const freeAfter = frees.reduce((a, b) => a + b, 0) - c.perUnit * frees.length;
  const fraction = freeAfter / total;
  const local =
    (req.localPath && hasFile(cap.node, req.localPath) === true) || cap.node.files.has(req.source) ? 30 : 0;
  if (req.strategy === 'binpack') return 100 * (1 - fraction) + local;
  return -1000 * (cap.perDeployment.get(req.deploymentId) ?? 0) + 100 * fraction + local;
}

function claim(cap: NodeCapacity, c: Candidate, deploymentId: string): void {
  cap.usedPorts.add(c.port);
  cap.perDeployment.set(deploymentId, (cap.perDeployment.get(deploymentId) ?? 0) + 1);
  if (c.gpuIndexes.length === 0) cap.hostFree -= c.perUnit;
  for (const i of c.gpuIndexes) cap.gpuFree.set(i, cap.gpuFree.get(i)! - c.perUnit);
}

/** Most free memory a node can offer one replica: host memory, or the sum over its best `gpus` GPUs. */
function offer(cap: NodeCapacity, gpus: number): number {
  if (gpus === 0) return cap.hostFree;
  const frees = [...cap.gpuFree.values()].sort((a, b) => b - a).slice(0, gpus);
  return frees.length < gpus ? 0 : frees.reduce((a, b) => a + b, 0);
}

/**
 * filter → candidates (one GPU, several GPUs on one node, or host memory) → score (spread or
 * binpack, file locality) → place, one replica at a time so each sees the memory and ports the
 * previous ones took. Deterministic: ties go to the node name.
 */
export function placeReplicas(
  nodes: readonly SchedNode[],
  allocations: readonly Allocation[],
  req: PlacementRequest,
  count: number,
): PlacementResult {
  const { eligible, funnel } = filterNodes(nodes, req);
  const byNode = new Map<string, Allocation[]>();
  for (const a of allocations) {
    const list = byNode.get(a.nodeId);
    if (list) list.push(a);
    else byNode.set(a.nodeId, [a]);
  }
  const caps = eligible.map((n) => capacityOf(n, byNode.get(n.id) ?? []));
  const placements: Placement[] = [];
  // A placement changes only the node it lands on: score every node once, then re-score that one.
  const evaluate = (cap: NodeCapacity): Candidate | 'portless' | null => {
    const c = candidateOn(cap, req);
    if (!c) return null;
    const port = freePort(cap);
    if (port === null) return 'portless';
    return { ...c, port, score: score({ ...c, port }, req) };
  };
  const scored = caps.map(evaluate);
  const fitting = scored.filter((c) => c && c !== 'portless').length;
  let portless = 0;
  for (let r = 0; r < count; r++) {
    let best = -1;
    portless = 0;
    for (let i = 0; i < scored.length; i++) {
      const c = scored[i];
      if (c === 'portless') portless++;
      if (!c || c === 'portless') continue;
      const b = best >= 0 ? (scored[best] as Candidate) : null;
      if (!b || c.score > b.score || (c.score === b.score && c.cap.node.name < b.cap.node.name)) best = i;
    }
    if (best < 0) break;
    const chosen = scored[best] as Candidate;
    claim(chosen.cap, chosen, req.deploymentId);
    placements.push({
      nodeId: chosen.cap.node.id,
      nodeName: chosen.cap.node.name,
      gpuIndexes: chosen.gpuIndexes,
      memoryBytes: chosen.perUnit,
      port: chosen.port,
      score: Math.round(chosen.score * 100) / 100,
    });
    scored[best] = evaluate(chosen.cap);
  }
  funnel.push({
    stage: 'capacity',
    nodes: fitting,
    ...(portless ? { dropped: { no_free_port: portless } } : {}),
  });
  let top: NodeCapacity | null = null;
  for (const cap of caps) {
    const diff = top ? offer(cap, req.gpus) - offer(top, req.gpus) : 1;
    if (diff > 0 || (diff === 0 && cap.node.name < top!.node.name)) top = cap;
  }
  const best = top
    ? {
        nodeId: top.node.id,
        nodeName: top.node.name,
        freeBytes: offer(top, req.gpus),
        gpus: top.node.gpus.length,
      }
    : null;
  const unplaced = count - placements.length;
  return {
    placements,
    unplaced,
    funnel,
    best,
    reason:
      unplaced > 0
        ? explainFunnel(funnel, req, best, { placed: placements.length, wanted: count, portless })
        : null,
  };
}

export type { SchedNode };
