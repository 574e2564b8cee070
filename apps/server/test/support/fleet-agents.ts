import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiClient, TEST_OUTBOUND_ALLOW } from '@maas/testkit';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface AgentProcess {
  name: string;
  dataDir: string;
  child: ChildProcess;
  output: string[];
  /** SIGTERM (runtimes keep running unless started with --stop-runtimes-on-exit); resolves on exit */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** pids of the runtimes this agent's data directory records */
  runtimePids(): { replica: string; pid: number }[];
}

/** Starts `maas agent` as a real process on loopback and waits until it has reported. */
export async function spawnAgent(
  server: string,
  token: string,
  name: string,
  opts: {
    dataDir?: string;
    ports: string;
    modelDirs?: string[];
    extra?: string[];
    /** the node address (default 127.0.0.1) */
    address?: string;
    /** what runtimes bind (default 127.0.0.1); null: the agent's default, the node address */
    bind?: string | null;
  },
): Promise<AgentProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `maas-${name}-`));
  const args = [
    '--import',
    'tsx',
    'apps/cli/src/bin.ts',
    'agent',
    '--server',
    server,
    '--token',
    token,
    '--name',
    name,
  ];
  if (opts.bind !== null) args.push('--bind', opts.bind ?? '127.0.0.1');
  args.push(
    '--data-dir',
    dataDir,
    '--address',
    opts.address ?? '127.0.0.1',
    '--ports',
    opts.ports,
    '--runtimes',
    'llama-cpp',
  );
  for (const d of opts.modelDirs ?? []) args.push('--model-dir', d);
  args.push(...(opts.extra ?? []));
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    // model file servers listen on loopback: the node allows it, as its admin would a local mirror
    env: { MAAS_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW, ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`agent ${name} did not start:\n${output.join('\n')}`)),
      30_000,
    );
    const check = setInterval(() => {
      if (output.some((l) => l.includes('started: runtimes'))) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    void exited.then(() => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`agent ${name} exited:\n${output.join('\n')}`));
    });
  });
  return {
    name,
    dataDir,
    child,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
    runtimePids() {
      const dir = join(dataDir, 'replicas');
      if (!existsSync(dir)) return [];
      return readdirSync(dir).flatMap((replica) => {
        const file = join(dir, replica, 'runtime.json');
        if (!existsSync(file)) return [];
        return [{ replica, pid: (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid }];
      });
    },
  };
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

/**
 * How much longer than on a quiet machine a deadline may take: CI runs several suites side by side
 * on two cores, where heartbeats, probes and timers all run late.
 */
const LOADED_MACHINE = 3;

/** Polls until `check` returns a truthy value (within `timeoutMs` on a quiet machine); fails with the last value seen. */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs * LOADED_MACHINE;
  let last: unknown;
  while (Date.now() < deadline) {
    const v = await check();
    if (v) return v;
    last = v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** A replica as the admin API returns it. */
// biome-ignore lint/suspicious/noExplicitAny: test data from the JSON API
export type ReplicaView = any;

export async function replicasOf(api: ApiClient, deploymentId: string): Promise<ReplicaView[]> {
  const res = await api.get(`/api/v1/deployments/${deploymentId}`);
  return res.body.replica_states ?? [];
}

const GIB = 1024 ** 3;

export interface FakeAgent {
  nodeId: string;
  token: string;
  /** replica id → state to report instead of `running` */
  states: Map<string, { state: string; reason?: string; fatal?: boolean; restarts?: number }>;
  /** replicas it was told to run at the last report */
  desired: ReplicaView[];
  report(): Promise<void>;
  /** keep reporting every `ms` until stop() */
  beat(ms: number): void;
  stop(): void;
}

/**
 * An agent without processes: it registers with a join token, reports synthetic GPUs, and says
 * every replica it is given is running (unless told otherwise) — for fast tests of placement,
 * rollouts, drains and failover.
 */
export async function fakeAgent(
  url: string,
  joinToken: string,
  name: string,
  opts: {
    gpus?: number[];
    /** GiB free per GPU (default: all of it) */
    gpuFreeGiB?: number[];
    /** utilisation reported for every GPU (default 0) */
    utilizationPct?: number;
    memoryGiB?: number;
    labels?: Record<string, string>;
    runtimes?: string[];
    ports?: [number, number];
  } = {},
): Promise<FakeAgent> {
  const reg = await fetch(`${url}/api/v1/agent/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ join_token: joinToken, name, hostname: name, labels: opts.labels ?? {} }),
  });
  if (reg.status !== 200) throw new Error(`register ${name}: ${reg.status} ${await reg.text()}`);
  const { node_id, node_token } = (await reg.json()) as { node_id: string; node_token: string };
  const auth = { authorization: `Bearer ${node_token}` };
  const known = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const agent: FakeAgent = {
    nodeId: node_id,
    token: node_token,
    states: new Map(),
    desired: [],
    async report() {
      const desired = (await (await fetch(`${url}/api/v1/agent/desired`, { headers: auth })).json()) as {
        replicas: ReplicaView[];
      };
      agent.desired = desired.replicas;
      const ids = new Set(desired.replicas.map((r) => r.id));
      const replicas = desired.replicas.map((r) => ({
        id: r.id,
        state: 'running',
        restarts: 0,
        logs: [`${r.id} up`],
        ...agent.states.get(r.id),
      }));
      for (const id of known)
        if (!ids.has(id)) replicas.push({ id, state: 'stopped', restarts: 0, logs: [] });
      known.clear();
      for (const id of ids) known.add(id);
      const res = await fetch(`${url}/api/v1/agent/status`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          agent_version: 'fake',
          hostname: name,
          address: '127.0.0.1',
          resources: {
            cpu: { cores: 8, model: 'fake', load1: 0 },
            memory: { total: (opts.memoryGiB ?? 64) * GIB, free: (opts.memoryGiB ?? 64) * GIB },
            disk: { path: '/', total: 100 * GIB, free: 50 * GIB },
            gpus: (opts.gpus ?? [24]).map((gib, index) => ({
              index,
              uuid: `GPU-${name}-${index}`,
              name: 'NVIDIA A10',
              vendor: 'nvidia',
              memory_total: gib * GIB,
              memory_free: (opts.gpuFreeGiB?.[index] ?? gib) * GIB,
              utilization_pct: opts.utilizationPct ?? 0,
              temperature_c: 40,
            })),
          },
          runtimes: opts.runtimes ?? ['llama-cpp', 'vllm'],
          files: [],
          model_dirs: [],
          port_range: opts.ports ?? [45000, 45099],
          replicas,
        }),
      });
      if (res.status !== 200) throw new Error(`status ${name}: ${res.status} ${await res.text()}`);
    },
    beat(ms) {
      clearInterval(timer);
      timer = setInterval(() => void agent.report().catch(() => {}), ms);
    },
    stop() {
      clearInterval(timer);
    },
  };
  await agent.report();
  return agent;
}
