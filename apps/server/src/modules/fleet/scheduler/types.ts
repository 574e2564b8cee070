/** The scheduler's view of the cluster: plain data, no database. Sizes are bytes. */
export interface SchedGpu {
  index: number;
  total: number;
  /** as last reported by the node (includes memory used by processes maas does not manage) */
  free: number;
}

export interface SchedNode {
  id: string;
  name: string;
  status: 'ready' | 'unreachable';
  /** false when cordoned or draining */
  schedulable: boolean;
  cordonReason?: 'cordoned' | 'draining';
  labels: Record<string, string>;
  /** may replicas of tenants' deployments run here? (false for the local node unless allowed) */
  tenantWorkloads: boolean;
  runtimes: readonly string[];
  /** model files present on the node: paths, and the sources of completed downloads */
  files: ReadonlySet<string>;
  /** directories whose contents the node reports in `files` */
  modelDirs: readonly string[];
  gpus: SchedGpu[];
  memory: { total: number; free: number };
  portRange: readonly [number, number];
}

/** Memory and a port already promised to a replica on a node. */
export interface Allocation {
  nodeId: string;
  deploymentId: string;
  gpuIndexes: readonly number[];
  /** per GPU, or host memory when gpuIndexes is empty */
  memoryBytes: number;
  port: number | null;
  /** its runtime is up, so its memory already shows as used in the node's report */
  loaded: boolean;
}

export interface PlacementRequest {
  deploymentId: string;
  runtime: string;
  /** GPUs per replica, all on one node; 0 runs on host memory */
  gpus: number;
  /** what one replica needs in total (split evenly over its GPUs) */
  memoryBytes: number;
  nodeSelector: Record<string, string>;
  strategy: 'spread' | 'binpack';
  /** a tenant's spec (not written by a platform admin): only nodes open to tenant workloads */
  tenant: boolean;
  /** a local path the node must have, when the source is one */
  localPath: string | null;
  /** the deployment's source, for download locality */
  source: string;
  excludeNodes?: ReadonlySet<string>;
}

export interface Placement {
  nodeId: string;
  nodeName: string;
  gpuIndexes: number[];
  /** per GPU, or host memory */
  memoryBytes: number;
  port: number;
  score: number;
}

export interface FunnelStage {
  stage:
    | 'registered'
    | 'ready'
    | 'schedulable'
    | 'tenancy'
    | 'selector'
    | 'runtime'
    | 'files'
    | 'not_excluded'
    | 'capacity';
  nodes: number;
  /** why nodes dropped out at this stage, e.g. { unreachable: 2 } */
  dropped?: Record<string, number>;
}

export interface PlacementResult {
  placements: Placement[];
  /** replicas that did not fit */
  unplaced: number;
  funnel: FunnelStage[];
  /** a plain sentence when something did not fit, else null */
  reason: string | null;
  /** node ids with the most free memory, best first (for the reason and the dry run) */
  best: { nodeId: string; nodeName: string; freeBytes: number; gpus: number } | null;
}
