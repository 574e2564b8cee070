import { count, sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../../db/client.ts';
import { PLACEMENT_FAILURE_CLASSES, type PlacementOutcome } from './placement-class.ts';
import { deployments, nodes, replicas } from './schema.ts';

export interface FleetMetrics {
  /** one replica's placement attempt by the scheduler */
  placement(outcome: PlacementOutcome): void;
}

interface Snapshot {
  nodes: {
    name: string;
    status: string;
    schedulable: boolean;
    resources: (typeof nodes.$inferSelect)['resources'];
    lastHeartbeatAt: Date | null;
  }[];
  replicas: { deploymentId: string; state: string; desired: string; n: number; restarts: number }[];
  deployments: { id: string; name: string; replicas: number; status: string }[];
}

/** Scrapes closer together than this share one read of the fleet's tables. */
const SNAPSHOT_TTL_MS = 1_000;

/**
 * Prometheus metrics of the fleet. Labels are node names, GPU indexes, deployment names (with the
 * deployment id, since names are unique per org only), replica states and reason classes: bounded by
 * the fleet's size, never by keys or users.
 *
 * Node, GPU, replica and deployment gauges are read from the database at scrape time (three
 * queries, shared by the gauges of one scrape), so every `maas serve` replica reports the same
 * fleet-wide values: aggregate them with max(), not sum(). GPU figures are what the nodes' agents
 * last reported. Placement counters count the scheduler passes this process ran.
 */
export function createFleetMetrics({ registry, db }: { registry: Registry; db: Db }): FleetMetrics {
  const registers = [registry];
  let cached: { at: number; snapshot: Promise<Snapshot> } | null = null;
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now();
    if (!cached || now - cached.at > SNAPSHOT_TTL_MS) {
      const loading = readSnapshot(db);
      cached = { at: now, snapshot: loading };
      loading.catch(() => {
        if (cached?.snapshot === loading) cached = null;
      });
    }
    return cached.snapshot;
  };
  /** a gauge whose series are all set again from each scrape's snapshot */
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, s: Snapshot) => void,
  ) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        // a database that does not answer leaves the fleet's series out of this scrape, not the scrape
        const s = await snapshot().catch(() => null);
        this.reset();
        if (s) fill(this, s);
      },
    });

  gauge(
    'maas_node_up',
    'Nodes: 1 while the agent reports (status ready), 0 when unreachable',
    ['node'],
    (g, s) => {
      for (const n of s.nodes) g.set({ node: n.name }, n.status === 'ready' ? 1 : 0);
    },
  );
  gauge(
    'maas_node_schedulable',
    'Nodes: 1 when new replicas may be placed there (not cordoned or draining)',
    ['node'],
    (g, s) => {
      for (const n of s.nodes) g.set({ node: n.name }, n.schedulable ? 1 : 0);
    },
  );
  gauge(
    'maas_node_last_report_timestamp_seconds',
    "Time of the node agent's last status report",
    ['node'],
    (g, s) => {
      for (const n of s.nodes)
        if (n.lastHeartbeatAt) g.set({ node: n.name }, n.lastHeartbeatAt.getTime() / 1000);
    },
  );
  gauge('maas_node_gpus', 'GPUs the node agent reports', ['node'], (g, s) => {
    for (const n of s.nodes) g.set({ node: n.name }, n.resources?.gpus.length ?? 0);
  });
  const eachGpu = (s: Snapshot, f: (labels: { node: string; gpu: string }, gpu: GpuReport) => void) => {
    for (const n of s.nodes)
      for (const gpu of n.resources?.gpus ?? []) f({ node: n.name, gpu: String(gpu.index) }, gpu);
  };
  gauge(
    'maas_node_gpu_memory_total_bytes',
    'GPU memory per GPU, as the node agent reports it',
    ['node', 'gpu'],
    (g, s) => eachGpu(s, (labels, gpu) => g.set(labels, gpu.memory_total)),
  );
  gauge(
    'maas_node_gpu_memory_used_bytes',
    'GPU memory in use per GPU (total minus free), as the node agent reports it',
    ['node', 'gpu'],
    (g, s) => eachGpu(s, (labels, gpu) => g.set(labels, Math.max(0, gpu.memory_total - gpu.memory_free))),
  );
  gauge(
    'maas_node_gpu_utilization_ratio',
    'GPU utilisation (0 to 1) per GPU, as the node agent reports it',
    ['node', 'gpu'],
    (g, s) =>
      eachGpu(s, (labels, gpu) => {
        if (gpu.utilization_pct !== null) g.set(labels, gpu.utilization_pct / 100);
      }),
  );
  gauge(
    'maas_node_gpu_temperature_celsius',
    'GPU temperature per GPU, as the node agent reports it',
    ['node', 'gpu'],
    (g, s) =>
      eachGpu(s, (labels, gpu) => {
        if (gpu.temperature_c !== null) g.set(labels, gpu.temperature_c);
      }),
  );

  const names = (s: Snapshot) => new Map(s.deployments.map((d) => [d.id, d.name]));
  gauge(
    'maas_fleet_replicas',
    'Replicas by deployment and state (pending, scheduled, downloading, starting, running, failed, stopping, stopped)',
    ['deployment', 'deployment_id', 'state'],
    (g, s) => {
      const name = names(s);
      for (const r of s.replicas)
        g.inc(
          {
            deployment: name.get(r.deploymentId) ?? 'unknown',
            deployment_id: r.deploymentId,
            state: r.state,
          },
          r.n,
        );
    },
  );
  gauge(
    'maas_fleet_replica_restarts',
    "Runtime restarts of the deployment's current replicas, as their agents report them",
    ['deployment', 'deployment_id'],
    (g, s) => {
      const name = names(s);
      for (const r of s.replicas)
        g.inc(
          { deployment: name.get(r.deploymentId) ?? 'unknown', deployment_id: r.deploymentId },
          r.restarts,
        );
    },
  );
  gauge(
    'maas_deployment_desired_replicas',
    'Replicas a deployment asks for (0 while it is being deleted)',
    ['deployment', 'deployment_id'],
    (g, s) => {
      for (const d of s.deployments)
        g.set({ deployment: d.name, deployment_id: d.id }, d.status === 'active' ? d.replicas : 0);
    },
  );
  gauge(
    'maas_deployment_ready_replicas',
    'Replicas of a deployment that run and are meant to (state running, desired run)',
    ['deployment', 'deployment_id'],
    (g, s) => {
      const ready = new Map<string, number>();
      for (const r of s.replicas)
        if (r.state === 'running' && r.desired === 'run')
          ready.set(r.deploymentId, (ready.get(r.deploymentId) ?? 0) + r.n);
      for (const d of s.deployments) g.set({ deployment: d.name, deployment_id: d.id }, ready.get(d.id) ?? 0);
    },
  );
  gauge(
    'maas_scheduler_pending_replicas',
    'Replicas waiting for a place (state pending, desired run)',
    [],
    (g, s) => {
      g.set(
        s.replicas
          .filter((r) => r.state === 'pending' && r.desired === 'run')
          .reduce((sum, r) => sum + r.n, 0),
      );
    },
  );

  const attempts = new Counter({
    name: 'maas_scheduler_placement_attempts_total',
    help: 'Placement attempts of one replica by the scheduler passes of this process, by result (placed, failed)',
    labelNames: ['result'] as const,
    registers,
  });
  const failures = new Counter({
    name: 'maas_scheduler_placement_failures_total',
    help: 'Failed placement attempts by reason class (no_nodes, ready, schedulable, tenancy, selector, runtime, files, not_excluded, no_free_port, capacity, unknown_memory)',
    labelNames: ['reason'] as const,
    registers,
  });
  // every series exists from the start, so rate() sees the first failure
  const placed = attempts.labels('placed');
  const failed = attempts.labels('failed');
  const byClass = new Map(PLACEMENT_FAILURE_CLASSES.map((c) => [c, failures.labels(c)]));
  for (const child of [placed, failed, ...byClass.values()]) child.inc(0);
  return {
    placement(outcome) {
      if (outcome === 'placed') {
        placed.inc();
        return;
      }
      failed.inc();
      byClass.get(outcome)?.inc();
    },
  };
}

type GpuReport = NonNullable<Snapshot['nodes'][number]['resources']>['gpus'][number];

async function readSnapshot(db: Db): Promise<Snapshot> {
  const [nodeRows, replicaRows, deploymentRows] = await Promise.all([
    db
      .select({
        name: nodes.name,
        status: nodes.status,
        schedulable: nodes.schedulable,
        resources: nodes.resources,
        lastHeartbeatAt: nodes.lastHeartbeatAt,
      })
      .from(nodes),
    db
      .select({
        deploymentId: replicas.deploymentId,
        state: replicas.state,
        desired: replicas.desired,
        n: count(),
        restarts: sql<number>`coalesce(sum(${replicas.restarts}), 0)::int`,
      })
      .from(replicas)
      .groupBy(replicas.deploymentId, replicas.state, replicas.desired),
    db
      .select({
        id: deployments.id,
        name: deployments.name,
        replicas: deployments.replicas,
        status: deployments.status,
      })
      .from(deployments),
  ]);
  return {
    nodes: nodeRows,
    replicas: replicaRows.map((r) => ({ ...r, restarts: Number(r.restarts) })),
    deployments: deploymentRows,
  };
}
