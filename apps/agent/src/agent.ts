import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type {
  AgentTransport,
  DesiredReplica,
  DesiredState,
  NodeResources,
  RuntimeName,
  StatusReport,
} from '@maas/contracts/agent';
import { createOutboundPolicy, type OutboundPolicy } from '@maas/outbound';
import type { DiscoverOptions } from './gpu/discover-gpus.ts';
import { scanModelFiles } from './host/model-files.ts';
import { collectResources } from './host/resources.ts';
import { ReplicaWorker, type WorkerDeps } from './replica-worker.ts';
import { availableRuntimes, runtimes } from './runtimes/index.ts';
import { isAlive, ownerOnlyDir, readRecord } from './supervisor/runtime-process.ts';
import { AGENT_VERSION } from './version.ts';

export interface AgentOptions {
  transport: AgentTransport;
  dataDir: string;
  /** host the server reaches runtimes on; empty: the address the server sees the agent connect from */
  address?: string;
  /** address runtimes bind (default: `address`; 0.0.0.0 only when neither is given) */
  bindHost?: string;
  portRange?: [number, number];
  /** directories whose model files the node reports (its download cache is always one) */
  modelDirs?: string[];
  heartbeatMs?: number;
  hfEndpoint?: string | undefined;
  /** where model downloads may connect (default: public addresses and `outboundAllow`) */
  outbound?: OutboundPolicy;
  /** the node's `MAAS_OUTBOUND_ALLOW`: private hosts and ranges downloads may reach (a local mirror) */
  outboundAllow?: string | undefined;
  /** the runtimes to offer; default: those found on this machine */
  runtimes?: RuntimeName[];
  gpu?: DiscoverOptions;
  timing?: Partial<WorkerDeps['timing']>;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  /** on stop, stop the runtimes too (default: leave them running for the next agent to adopt) */
  stopRuntimesOnExit?: boolean;
}

export type Agent = Awaited<ReturnType<typeof createAgent>>;

/**
 * `maas agent`: reports the node (CPU, memory, disk, GPUs, runtimes, model files) and the state
 * of its replicas on every heartbeat and change, watches its desired state, and reconciles: starts
 * runtimes for new replicas, stops removed ones; each worker restarts its runtime with backoff.
 * Runtimes outlive the agent, and a restarted agent adopts the ones still running.
 */
export async function createAgent(opts: AgentOptions) {
  const log = opts.log ?? ((msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`));
  const replicasDir = join(opts.dataDir, 'replicas');
  const cacheDir = join(opts.dataDir, 'models');
  await ownerOnlyDir(replicasDir);
  await mkdir(cacheDir, { recursive: true });
  const workers = new Map<string, ReplicaWorker>();
  const outbound = opts.outbound ?? createOutboundPolicy({ allow: opts.outboundAllow });
  const leaving = new Set<ReplicaWorker>();
  const portRange = opts.portRange ?? [30000, 30999];
  const timing: WorkerDeps['timing'] = {
    healthIntervalMs: 2_000,
    startTimeoutMs: 10 * 60_000,
    maxBackoffMs: 60_000,
    stopGraceMs: 10_000,
    ...opts.timing,
  };
  const abort = new AbortController();
  let resources: NodeResources | null = null;
  let runtimeNames: RuntimeName[] = [];
  let nodeId = '';
  let heartbeatMs = opts.heartbeatMs ?? 5_000;
  let applied = '';
  let seenDesired = false;
  let reportTimer: NodeJS.Timeout | undefined;
  let reporting: Promise<void> | null = null;
  let reportAgain = false;
  const timers: NodeJS.Timeout[] = [];

  const workerDeps = (id: string): WorkerDeps => ({
    dir: join(replicasDir, id),
    cacheDir,
    bindHost: opts.bindHost ?? (opts.address || '0.0.0.0'),
    hfEndpoint: opts.hfEndpoint,
    outbound,
    gpus: () => resources?.gpus ?? [],
    onChange: () => scheduleReport(),
    log,
    timing,
  });

  async function statusReport(): Promise<StatusReport> {
    resources = await collectResources(opts.dataDir, opts.gpu);
    for (const w of [...workers.values(), ...leaving]) await w.pollLogs().catch(() => {});
    const reported = [...workers.values(), ...leaving].map((w) => w.report());
    for (const w of leaving) if (w.state === 'stopped') leaving.delete(w);
    return {
      agent_version: AGENT_VERSION,
      hostname: osHostname(),
      address: opts.address ?? '',
      resources,
      runtimes: runtimeNames,
      files: await scanModelFiles([cacheDir, ...(opts.modelDirs ?? [])]),
      model_dirs: [cacheDir, ...(opts.modelDirs ?? [])],
      port_range: portRange,
      replicas: reported,
    };
  }

  async function sendReport(): Promise<void> {
    const res = await opts.transport.report(await statusReport());
    if (res.desired_version !== applied) {
      // A push went missing (or the watch is down): fetch the desired state.
      apply(await opts.transport.desired());
    }
  }

  function scheduleReport(delayMs = 100): void {
    if (abort.signal.aborted) return;
    clearTimeout(reportTimer);
    reportTimer = setTimeout(() => void report(), delayMs);
  }

  function report(): Promise<void> {
    if (reporting) {
      reportAgain = true;
      return reporting;
    }
    reporting = sendReport()
      .catch((err: unknown) => log(`status report failed: ${(err as Error).message}`))
      .finally(() => {
        reporting = null;
        if (reportAgain) {
          reportAgain = false;
          scheduleReport(0);
        }
      });
    return reporting;
  }

  async function startWorker(spec: DesiredReplica): Promise<void> {
    const w = new ReplicaWorker(spec, workerDeps(spec.id));
    workers.set(spec.id, w);
    await ownerOnlyDir(join(replicasDir, spec.id));
    await writeFile(join(replicasDir, spec.id, 'spec.json'), JSON.stringify(spec), { mode: 0o600 });
    await chmod(join(replicasDir, spec.id, 'spec.json'), 0o600);
    w.start();
  }

  function apply(state: DesiredState): void {
    if (abort.signal.aborted) return;
    applied = state.version;
    seenDesired = true;
    const wanted = new Map(state.replicas.map((r) => [r.id, r]));
    for (const spec of wanted.values()) if (!workers.has(spec.id)) void startWorker(spec);
    for (const [id, w] of workers) {
      if (wanted.has(id)) continue;
      workers.delete(id);
      leaving.add(w);
      void w.stop().then(() => scheduleReport());
    }
    scheduleReport();
  }

  /** Runtimes a previous agent left running are taken over, not restarted. */
  async function adoptRunning(): Promise<void> {
    for (const id of await readdir(replicasDir).catch(() => [])) {
      const dir = join(replicasDir, id);
      const record = await readRecord(dir);
      if (!record || !isAlive(record)) continue;
      const spec = await readFile(join(dir, 'spec.json'), 'utf8').then(
        (t) => JSON.parse(t) as DesiredReplica,
        () => null,
      );
      if (!spec) continue;
      const w = new ReplicaWorker(spec, workerDeps(id));
      workers.set(id, w);
      await w.adopt(record);
    }
  }

  async function watchLoop(): Promise<void> {
    let backoff = 500;
    while (!abort.signal.aborted) {
      const started = Date.now();
      try {
        await opts.transport.watch(apply, abort.signal);
      } catch (err) {
        if (abort.signal.aborted) return;
        log(`watch failed: ${(err as Error).message}`);
      }
      if (abort.signal.aborted) return;
      if (Date.now() - started > 30_000) backoff = 500;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  return {
    get nodeId() {
      return nodeId;
    },
    workers,
    /** Connects (registering if needed), adopts running runtimes, then reports and watches. */
    async start(): Promise<void> {
      const connected = await opts.transport.connect();
      nodeId = connected.nodeId;
      heartbeatMs = opts.heartbeatMs ?? connected.heartbeatMs;
      runtimeNames = opts.runtimes ?? (await availableRuntimes());
      for (const name of runtimeNames) await runtimes[name].prepare?.({ dataDir: opts.dataDir });
      await adoptRunning();
      await report();
      timers.push(setInterval(() => void report(), heartbeatMs));
      for (const t of timers) t.unref();
      void watchLoop();
      log(
        `agent for node ${nodeId} started: runtimes ${runtimeNames.join(', ') || 'none'}, ${resources?.gpus.length ?? 0} GPUs, adopted ${workers.size} replicas`,
      );
    },
    /** Has the agent received its desired state yet? */
    get synced() {
      return seenDesired;
    },
    async stop(): Promise<void> {
      abort.abort();
      clearTimeout(reportTimer);
      for (const t of timers) clearInterval(t);
      await reporting;
      if (opts.stopRuntimesOnExit) {
        await Promise.all([...workers.values(), ...leaving].map((w) => w.stop()));
        await opts.transport.report(await statusReport()).catch(() => {});
      } else {
        for (const w of workers.values()) w.detach();
        await Promise.all([...leaving].map((w) => w.stop()));
      }
    },
  };
}
