import { startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type FakeAgent, fakeAgent, replicasOf } from './support/fleet-agents.ts';

/**
 * /metrics for the fleet: node, GPU (from what the agents report), replica, deployment and
 * scheduler series, read with the metrics token, with labels bounded by the fleet (node names,
 * GPU indexes, deployment names and ids, states, reason classes) and never a key, user or org.
 */
process.env.MAAS_FLEET_RECONCILE_MS = '100';
process.env.MAAS_REPLICA_DRAIN_MS = '0';
// long enough that agents beating every 150 ms on a loaded machine are not taken for gone
process.env.MAAS_NODE_TIMEOUT_MS = '4000';

const METRICS_TOKEN = 'fleet-metrics-token-0123456789';
const GIB = 1024 ** 3;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, sample lines only. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

let ts: TestServer;
const agents: FakeAgent[] = [];

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${ts.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

/** The value of the one series of `name` whose labels include `labels`; undefined when none. */
function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} series`);
  return found[0]?.value;
}

beforeAll(async () => {
  ts = await startTestServer({ MAAS_METRICS_TOKEN: METRICS_TOKEN });
  const token = (await ts.admin.post('/api/v1/join-tokens', { name: 'metrics', max_uses: 2 })).body.token;
  agents.push(
    await fakeAgent(ts.url, token, 'gpu-a', {
      gpus: [24, 24],
      gpuFreeGiB: [20, 6],
      utilizationPct: 37,
      labels: { zone: 'east' },
    }),
  );
  agents.push(await fakeAgent(ts.url, token, 'gpu-b', { gpus: [16], labels: { zone: 'west' } }));
  for (const a of agents) a.beat(150);
}, 60_000);

afterAll(async () => {
  for (const a of agents) a.stop();
  await ts?.close();
});

describe('fleet metrics', () => {
  it('report nodes and their GPUs as the agents report them', async () => {
    const m = await scrape();
    expect(sampleValue(m, 'maas_node_up', { node: 'gpu-a' })).toBe(1);
    expect(sampleValue(m, 'maas_node_up', { node: 'gpu-b' })).toBe(1);
    expect(sampleValue(m, 'maas_node_schedulable', { node: 'gpu-a' })).toBe(1);
    expect(sampleValue(m, 'maas_node_gpus', { node: 'gpu-a' })).toBe(2);
    expect(sampleValue(m, 'maas_node_gpus', { node: 'gpu-b' })).toBe(1);
    expect(sampleValue(m, 'maas_node_gpu_memory_total_bytes', { node: 'gpu-a', gpu: '1' })).toBe(24 * GIB);
    expect(sampleValue(m, 'maas_node_gpu_memory_used_bytes', { node: 'gpu-a', gpu: '0' })).toBe(4 * GIB);
    expect(sampleValue(m, 'maas_node_gpu_memory_used_bytes', { node: 'gpu-a', gpu: '1' })).toBe(18 * GIB);
    expect(sampleValue(m, 'maas_node_gpu_memory_used_bytes', { node: 'gpu-b', gpu: '0' })).toBe(0);
    expect(sampleValue(m, 'maas_node_gpu_utilization_ratio', { node: 'gpu-a', gpu: '0' })).toBeCloseTo(0.37);
    expect(sampleValue(m, 'maas_node_gpu_temperature_celsius', { node: 'gpu-b', gpu: '0' })).toBe(40);
    expect(sampleValue(m, 'maas_node_last_report_timestamp_seconds', { node: 'gpu-a' })).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
  });

  it('report deployments desired against ready, replicas by state, restarts and the scheduler', async () => {
    const fits = await ts.admin.post('/api/v1/deployments', {
      model: 'fits',
      runtime: 'vllm',
      source: '/models/fits',
      replicas: 2,
      resources: { gpu_memory_gib: 4 },
    });
    expect(fits.status).toBe(201);
    const tooBig = await ts.admin.post('/api/v1/deployments', {
      model: 'too-big',
      runtime: 'vllm',
      source: '/models/too-big',
      resources: { gpu_memory_gib: 40 },
    });
    expect(tooBig.status).toBe(201);
    const nowhere = await ts.admin.post('/api/v1/deployments', {
      model: 'nowhere',
      runtime: 'vllm',
      source: '/models/nowhere',
      resources: { gpu_memory_gib: 4 },
      placement: { node_selector: { zone: 'mars' } },
    });
    expect(nowhere.status).toBe(201);
    const running = await eventually(
      async () => {
        const reps = await replicasOf(ts.admin, fits.body.id);
        return reps.length === 2 && reps.every((r) => r.state === 'running') ? reps : null;
      },
      30_000,
      'both replicas running',
    );
    // one replica's runtime restarted three times, as its agent reports
    for (const a of agents) a.states.set(running[0].id, { state: 'running', restarts: 3 });
    const m = await eventually(
      async () => {
        const s = await scrape();
        return sampleValue(s, 'maas_fleet_replica_restarts', { deployment: 'fits' }) === 3 ? s : null;
      },
      20_000,
      'restarts reported',
    );
    const fitsLabels = { deployment: 'fits', deployment_id: fits.body.id };
    expect(sampleValue(m, 'maas_deployment_desired_replicas', fitsLabels)).toBe(2);
    expect(sampleValue(m, 'maas_deployment_ready_replicas', fitsLabels)).toBe(2);
    expect(sampleValue(m, 'maas_fleet_replicas', { ...fitsLabels, state: 'running' })).toBe(2);
    expect(sampleValue(m, 'maas_deployment_desired_replicas', { deployment: 'too-big' })).toBe(1);
    expect(sampleValue(m, 'maas_deployment_ready_replicas', { deployment: 'too-big' })).toBe(0);
    expect(sampleValue(m, 'maas_fleet_replicas', { deployment: 'too-big', state: 'pending' })).toBe(1);
    expect(sampleValue(m, 'maas_scheduler_pending_replicas')).toBe(2);
    expect(
      sampleValue(m, 'maas_scheduler_placement_attempts_total', { result: 'placed' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sampleValue(m, 'maas_scheduler_placement_attempts_total', { result: 'failed' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sampleValue(m, 'maas_scheduler_placement_failures_total', { reason: 'capacity' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(m, 'maas_scheduler_placement_failures_total', { reason: 'selector' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, 'maas_scheduler_placement_failures_total', { reason: 'no_nodes' })).toBe(0);

    // labels are bounded by the fleet: nothing names an org, project, user or key
    const fleetSeries = m.filter((s) => /^maas_(node|fleet|deployment|scheduler)_/.test(s.name));
    const labelNames = new Set(fleetSeries.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual([
      'deployment',
      'deployment_id',
      'gpu',
      'node',
      'reason',
      'result',
      'state',
    ]);
    expect(JSON.stringify(fleetSeries)).not.toMatch(/(org|prj|usr|key)_[0-9A-Za-z]{6,}/);
  }, 90_000);

  it('report a node whose agent stopped reporting as down', async () => {
    agents[1]!.stop();
    const m = await eventually(
      async () => {
        const s = await scrape();
        return sampleValue(s, 'maas_node_up', { node: 'gpu-b' }) === 0 ? s : null;
      },
      30_000,
      'gpu-b down',
    );
    expect(sampleValue(m, 'maas_node_up', { node: 'gpu-a' })).toBe(1);
  }, 60_000);
});
