import { describe, expect, it } from 'vitest';
import { placeReplicas } from './place-replicas.ts';
import type { Allocation, PlacementRequest, SchedNode } from './types.ts';

const GIB = 1024 ** 3;

function node(
  name: string,
  over: Partial<SchedNode> & { gpuGiB?: number[]; freeGiB?: number[] } = {},
): SchedNode {
  const gpuGiB = over.gpuGiB ?? [24];
  return {
    id: `nod_${name}`,
    name,
    status: 'ready',
    schedulable: true,
    labels: {},
    tenantWorkloads: true,
    runtimes: ['llama-cpp', 'vllm'],
    files: new Set(),
    modelDirs: [],
    gpus: gpuGiB.map((total, index) => ({
      index,
      total: total * GIB,
      free: (over.freeGiB?.[index] ?? total) * GIB,
    })),
    memory: { total: 64 * GIB, free: 60 * GIB },
    portRange: [40000, 40009],
    ...over,
  };
}

function request(over: Partial<PlacementRequest> = {}): PlacementRequest {
  return {
    deploymentId: 'dep_a',
    runtime: 'vllm',
    gpus: 1,
    memoryBytes: 10 * GIB,
    nodeSelector: {},
    strategy: 'spread',
    tenant: true,
    localPath: null,
    source: 'hf://org/repo/m.gguf',
    ...over,
  };
}

describe('scheduler', () => {
  it('spreads replicas over nodes and allocates a port per node', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const r = placeReplicas(nodes, [], request(), 3);
    expect(r.unplaced).toBe(0);
    expect(r.placements.map((p) => p.nodeName).sort()).toEqual(['a', 'b', 'c']);
    expect(r.placements.every((p) => p.port === 40000)).toBe(true);
    expect(r.reason).toBeNull();
  });

  it('binpacks onto the fullest GPU that fits and gives the second replica on a node the next port', () => {
    const nodes = [node('roomy', { gpuGiB: [80] }), node('tight', { gpuGiB: [24, 24], freeGiB: [12, 24] })];
    const r = placeReplicas(nodes, [], request({ strategy: 'binpack' }), 2);
    expect(r.placements.map((p) => [p.nodeName, p.gpuIndexes, p.port])).toEqual([
      ['tight', [0], 40000],
      ['tight', [1], 40001],
    ]);
  });

  it('counts memory promised to replicas that have not loaded yet, and foreign processes', () => {
    const nodes = [node('a', { gpuGiB: [24], freeGiB: [20] })]; // 4 GiB used by something else
    const allocations: Allocation[] = [
      {
        nodeId: 'nod_a',
        deploymentId: 'dep_x',
        gpuIndexes: [0],
        memoryBytes: 8 * GIB,
        port: 40000,
        loaded: false,
      },
    ];
    const r = placeReplicas(nodes, allocations, request({ memoryBytes: 13 * GIB }), 1);
    expect(r.unplaced).toBe(1);
    expect(r.reason).toBe('needs ~13.0 GiB of GPU memory per replica; best node a has 12.0 GiB free');
    // once loaded, the replica's 8 GiB shows in the report and is not counted twice
    const loaded = [{ ...allocations[0]!, loaded: true }];
    const used = node('a', { gpuGiB: [24], freeGiB: [12] });
    expect(placeReplicas([used], loaded, request({ memoryBytes: 12 * GIB }), 1).unplaced).toBe(0);
  });

  it('places a tensor-parallel replica on several GPUs of one node', () => {
    const nodes = [
      node('two', { gpuGiB: [24, 24] }),
      node('four', { gpuGiB: [24, 24, 24, 24], freeGiB: [24, 2, 24, 24] }),
    ];
    const r = placeReplicas(nodes, [], request({ gpus: 3, memoryBytes: 75 * GIB }), 1);
    expect(r.unplaced).toBe(1);
    expect(r.reason).toBe(
      'needs ~75.0 GiB of GPU memory on 3 GPUs of one node per replica (3 GPUs × 25.0 GiB); best node four has 72.0 GiB free on its best 3 GPUs',
    );
    const ok = placeReplicas(nodes, [], request({ gpus: 3, memoryBytes: 45 * GIB }), 1);
    expect(ok.placements[0]).toMatchObject({
      nodeName: 'four',
      gpuIndexes: [0, 2, 3],
      memoryBytes: 15 * GIB,
    });
  });

  it('explains a pending replica with the funnel: selector, then memory', () => {
    const nodes = [
      node('a', { labels: { gpu: 'a100' }, gpuGiB: [16], freeGiB: [15.1] }),
      node('b', { labels: { gpu: 'a100' }, gpuGiB: [16], freeGiB: [8] }),
      node('c', { labels: { gpu: 't4' } }),
    ];
    const r = placeReplicas(
      nodes,
      [],
      request({ nodeSelector: { gpu: 'a100' }, memoryBytes: 18.2 * GIB }),
      1,
    );
    expect(r.reason).toBe(
      '2 of 3 nodes match the selector gpu=a100 (1 labels); needs ~18.2 GiB of GPU memory per replica; best node a has 15.1 GiB free',
    );
    expect(r.funnel.map((s) => [s.stage, s.nodes])).toEqual([
      ['registered', 3],
      ['ready', 3],
      ['schedulable', 3],
      ['tenancy', 3],
      ['selector', 2],
      ['runtime', 2],
      ['files', 2],
      ['not_excluded', 2],
      ['capacity', 0],
    ]);
  });

  it('filters unreachable and cordoned nodes, missing runtimes and missing files', () => {
    const nodes = [
      node('down', { status: 'unreachable' }),
      node('cordoned', { schedulable: false, cordonReason: 'cordoned' }),
      node('no-vllm', { runtimes: ['llama-cpp'] }),
      node('no-file', { modelDirs: ['/models'] }),
      node('has-file', { modelDirs: ['/models'], files: new Set(['/models/m.gguf']) }),
      node('unknown-dir'),
    ];
    const r = placeReplicas(nodes, [], request({ localPath: '/models/m.gguf', source: '/models/m.gguf' }), 2);
    expect(r.placements.map((p) => p.nodeName)).toEqual(['has-file', 'unknown-dir']);
    const none = placeReplicas(nodes.slice(0, 4), [], request({ localPath: '/models/m.gguf' }), 1);
    expect(none.reason).toBe(
      '3 of 4 nodes are ready (1 unreachable); 2 of 3 nodes accept new replicas (1 cordoned); 1 of 2 nodes have the vllm runtime (1 runtime); 0 of 1 nodes have /models/m.gguf (1 missing)',
    );
  });

  it("keeps tenants' replicas off nodes closed to them (the local node) and says why", () => {
    const nodes = [node('local', { tenantWorkloads: false }), node('gpu-1', { gpuGiB: [8] })];
    const r = placeReplicas(nodes, [], request({ memoryBytes: 4 * GIB }), 2);
    expect(r.placements.map((p) => p.nodeName)).toEqual(['gpu-1', 'gpu-1']);
    const alone = placeReplicas(nodes.slice(0, 1), [], request(), 1);
    expect(alone.funnel.find((s) => s.stage === 'tenancy')).toEqual({
      stage: 'tenancy',
      nodes: 0,
      dropped: { admin_only: 1 },
    });
    expect(alone.reason).toMatch(
      /^0 of 1 nodes accept tenants' deployments .*tenant_workloads.* \(1 admin only\)$/,
    );
    const admin = placeReplicas(nodes.slice(0, 1), [], request({ tenant: false }), 1);
    expect(admin.placements.map((p) => p.nodeName)).toEqual(['local']);
  });

  it('prefers a node that already holds the file (locality) when spreading', () => {
    const nodes = [node('a'), node('b', { files: new Set(['hf://org/repo/m.gguf']) }), node('c')];
    expect(placeReplicas(nodes, [], request(), 1).placements[0]!.nodeName).toBe('b');
  });

  it('runs CPU replicas on host memory and says when no node is registered', () => {
    const r = placeReplicas(
      [node('cpu', { gpuGiB: [] })],
      [],
      request({ gpus: 0, memoryBytes: 2 * GIB, runtime: 'llama-cpp' }),
      1,
    );
    expect(r.placements[0]).toMatchObject({ nodeName: 'cpu', gpuIndexes: [], memoryBytes: 2 * GIB });
    expect(placeReplicas([], [], request(), 1).reason).toMatch(/no nodes have registered/);
  });

  it('runs out of ports', () => {
    const r = placeReplicas(
      [node('a', { gpuGiB: [80], portRange: [40000, 40001] })],
      [],
      request({ memoryBytes: GIB }),
      3,
    );
    expect(r.placements).toHaveLength(2);
    expect(r.reason).toMatch(/placed 2 of 3 replicas; .*1 nodes have no free port left/);
  });

  it('places 100 replicas on a synthetic cluster of 1,000 nodes × 8 GPUs quickly', () => {
    const nodes: SchedNode[] = [];
    const allocations: Allocation[] = [];
    for (let i = 0; i < 1000; i++) {
      const name = `gpu-${String(i).padStart(4, '0')}`;
      nodes.push(
        node(name, {
          gpuGiB: Array(8).fill(80),
          freeGiB: Array.from({ length: 8 }, (_, g) => 80 - ((i * 7 + g * 13) % 60)),
          labels: { zone: i % 2 ? 'east' : 'west' },
          status: i % 50 === 0 ? 'unreachable' : 'ready',
          portRange: [40000, 40099],
        }),
      );
      for (let a = 0; a < 4; a++) {
        allocations.push({
          nodeId: `nod_${name}`,
          deploymentId: `dep_${a}`,
          gpuIndexes: [a * 2],
          memoryBytes: 10 * GIB,
          port: 40000 + a,
          loaded: a % 2 === 0,
        });
      }
    }
    const times: number[] = [];
    let last = placeReplicas(
      nodes,
      allocations,
      request({ gpus: 2, memoryBytes: 60 * GIB, nodeSelector: { zone: 'east' } }),
      100,
    );
    for (const strategy of ['spread', 'binpack'] as const) {
      const started = performance.now();
      last = placeReplicas(
        nodes,
        allocations,
        request({ gpus: 2, memoryBytes: 60 * GIB, strategy, nodeSelector: { zone: 'east' } }),
        100,
      );
      times.push(performance.now() - started);
      expect(last.unplaced).toBe(0);
    }
    const single = performance.now();
    placeReplicas(nodes, allocations, request(), 1);
    const singleMs = performance.now() - single;
    console.log(
      `scheduler: 1,000 nodes × 8 GPUs, 4,000 existing replicas — 100 replicas spread ${times[0]!.toFixed(1)} ms, binpack ${times[1]!.toFixed(1)} ms; one replica ${singleMs.toFixed(1)} ms`,
    );
    expect(new Set(last.placements.map((p) => p.nodeId)).size).toBeGreaterThan(1);
    expect(Math.max(...times)).toBeLessThan(2_000);
  });
});
