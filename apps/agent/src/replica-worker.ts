import { join } from 'node:path';
import {
  type DesiredReplica,
  type GpuInfo,
  type ReplicaReport,
  type ReplicaState,
  secretsOf,
} from '@maas/contracts/agent';
import type { OutboundPolicy } from '@maas/outbound';
import { Fatal, resolveModel } from './resolve-model.ts';
import { AppliedTemplateError, runtimes } from './runtimes/index.ts';
import { LogTail } from './supervisor/log-tail.ts';
import { healthy, listenError, runOnce, sleep } from './supervisor/probes.ts';
import {
  forgetRecord,
  isAlive,
  LOG_FILE,
  type RuntimeRecord,
  spawnRuntime,
  stopProcess,
} from './supervisor/runtime-process.ts';

const PORT_BUSY_WAIT_MS = 5_000;

export interface WorkerDeps {
  /** `<dataDir>/replicas/<id>` */
  dir: string;
  /** `<dataDir>/models`: downloads land here */
  cacheDir: string;
  /** address runtimes bind */
  bindHost: string;
  hfEndpoint: string | undefined;
  /** where model downloads may connect */
  outbound: OutboundPolicy;
  gpus(): GpuInfo[];
  onChange(): void;
  log(msg: string, extra?: Record<string, unknown>): void;
  timing: { healthIntervalMs: number; startTimeoutMs: number; maxBackoffMs: number; stopGraceMs: number };
}

/**
 * One replica on this node: fetch the model, start the runtime, health-check it, restart it with
 * backoff when it dies, stop it on request. States: scheduled → downloading → starting → running,
 * or failed with the reason (a fatal failure asks the server to place it elsewhere).
 */
export class ReplicaWorker {
  state: ReplicaState = 'scheduled';
  reason: string | null = null;
  fatal = false;
  restarts = 0;
  progress: { bytes: number; total: number | null } | null = null;
  private record: RuntimeRecord | null = null;
  private exited: Promise<string> | null = null;
  /** aborts when a runtime this agent started exits */
  private exitSignal: AbortSignal | null = null;
  private readonly abort = new AbortController();
  private readonly tail: LogTail;
  private loop: Promise<void> | null = null;

  constructor(
    readonly spec: DesiredReplica,
    private readonly deps: WorkerDeps,
  ) {
    this.tail = new LogTail(join(deps.dir, LOG_FILE), 200, secretsOf(spec));
  }

  private set(state: ReplicaState, reason: string | null = null) {
    if (this.state === state && this.reason === reason) return;
    this.state = state;
    this.reason = reason;
    this.deps.log(`replica ${this.spec.id}: ${state}${reason ? ` (${reason})` : ''}`);
    this.deps.onChange();
  }

  /** Takes over a runtime a previous agent started; it keeps serving meanwhile. */
  async adopt(record: RuntimeRecord): Promise<void> {
    this.record = record;
    await this.tail.seek();
    this.deps.log(`replica ${this.spec.id}: adopted running runtime pid ${record.pid}`);
    this.loop = this.run(true);
  }

  start(): void {
    this.loop = this.run(false);
  }

  report(): ReplicaReport {
    return {
      id: this.spec.id,
      state: this.state,
      reason: this.reason,
      fatal: this.fatal,
      restarts: this.restarts,
      pid: this.record?.pid ?? null,
      progress: this.progress,
      logs: this.tail.take(),
    };
  }

  async pollLogs(): Promise<void> {
    await this.tail.poll();
  }

  private async resolveModel(): Promise<string> {
    const path = await resolveModel(this.spec, {
      cacheDir: this.deps.cacheDir,
      hfEndpoint: this.deps.hfEndpoint,
      outbound: this.deps.outbound,
      signal: this.abort.signal,
      onDownloading: () => {
        this.progress = { bytes: 0, total: null };
        this.set('downloading');
      },
      onProgress: (p) => {
        this.progress = p;
        this.deps.onChange();
      },
    });
    this.progress = null;
    return path;
  }

  private async launch(modelPath: string): Promise<void> {
    let cannot = await listenError(this.spec.port, this.deps.bindHost);
    // a port held by a short-lived socket (an outgoing connection, TIME_WAIT) frees itself in
    // seconds; only one that stays busy sends the replica elsewhere
    for (let waited = 0; cannot === 'EADDRINUSE' && waited < PORT_BUSY_WAIT_MS; waited += 250) {
      await sleep(250, this.abort.signal);
      cannot = await listenError(this.spec.port, this.deps.bindHost);
    }
    if (cannot === 'EADDRNOTAVAIL')
      throw new Fatal(`${this.deps.bindHost} is not an address of this node (maas agent --bind)`);
    if (cannot) throw new Fatal(`port ${this.spec.port} is in use on this node`);
    const adapter = runtimes[this.spec.runtime];
    const gpuInfo = this.deps.gpus();
    let launch: ReturnType<typeof adapter.launch>;
    try {
      launch = adapter.launch({
        replica: this.spec,
        modelPath,
        host: this.deps.bindHost,
        gpus: this.spec.gpu_indexes.map((i) => {
          const g = gpuInfo.find((x) => x.index === i);
          return { vendor: g?.vendor ?? 'nvidia', total: g?.memory_total ?? 0 };
        }),
        workDir: this.deps.dir,
      });
    } catch (err) {
      if (err instanceof AppliedTemplateError) throw new Fatal(err.message);
      throw err;
    }
    const spawned = await spawnRuntime(this.deps.dir, this.spec.id, launch);
    this.record = spawned.record;
    this.exited = spawned.exited;
    const exit = new AbortController();
    void spawned.exited?.then(() => exit.abort());
    this.exitSignal = exit.signal;
    if (launch.afterStart) {
      if (!(await this.waitHealthy())) return;
      await runOnce(launch.afterStart, this.deps.dir, this.deps.timing.startTimeoutMs);
    }
  }

  /** Starting → running once the health check passes; false when the process died or timed out. */
  private async waitHealthy(): Promise<boolean> {
    const record = this.record!;
    const deadline = Date.now() + this.deps.timing.startTimeoutMs;
    while (!this.abort.signal.aborted && Date.now() < deadline) {
      if (!this.alive()) return false;
      if (await healthy(record.port, record.health_path, this.probe())) return true;
      await sleep(Math.min(250, this.deps.timing.healthIntervalMs), this.abort.signal, this.exitSignal);
    }
    return false;
  }

  /** The health check goes where the runtime listens, with the credential it requires. */
  private probe() {
    return { host: this.deps.bindHost, apiKey: this.spec.api_key };
  }

  private alive(): boolean {
    return this.record !== null && this.record.pid > 0 && isAlive(this.record);
  }

  /** Watches a running runtime; resolves with why it stopped serving. */
  private async supervise(): Promise<string> {
    let failures = 0;
    for (;;) {
      // A runtime this agent started reports its exit at once; an adopted one is polled.
      await sleep(this.deps.timing.healthIntervalMs, this.abort.signal, this.exitSignal);
      if (this.abort.signal.aborted) return 'stopped';
      if (!this.alive()) return `runtime exited (${this.exited ? await this.exited : 'no longer running'})`;
      if (await healthy(this.record!.port, this.record!.health_path, this.probe())) {
        failures = 0;
        continue;
      }
      if (++failures >= 3) {
        await stopProcess(this.record!, this.deps.timing.stopGraceMs);
        return 'health check failed 3 times in a row';
      }
    }
  }

  private lastLine(): string {
    const line = this.tail
      .lines()
      .filter((l) => l.trim())
      .at(-1);
    return line ? `: ${line.slice(0, 300)}` : '';
  }

  private async run(adopted: boolean): Promise<void> {
    const { signal } = this.abort;
    let backoff = 1_000;
    let modelPath: string | null = null;
    while (!signal.aborted) {
      let why: string;
      try {
        if (!adopted) {
          modelPath ??= await this.resolveModel();
          this.set('starting');
          await this.launch(modelPath);
        }
        adopted = false;
        const up = await this.waitHealthy();
        if (signal.aborted) return;
        if (up) {
          this.set('running');
          const since = Date.now();
          why = await this.supervise();
          if (Date.now() - since > 5 * 60_000) backoff = 1_000;
        } else {
          await this.tail.poll();
          const alive = this.alive();
          why = alive
            ? 'did not become healthy in time'
            : `runtime exited during start (${this.exited ? await this.exited : 'gone'})${this.lastLine()}`;
          if (alive) await stopProcess(this.record!, this.deps.timing.stopGraceMs);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof Fatal) {
          this.fatal = true;
          this.set('failed', err.message);
          return;
        }
        why = (err as Error).message;
      }
      if (signal.aborted) return;
      this.restarts++;
      this.set('failed', `${why}; restarting in ${Math.round(backoff / 1000)} s`);
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, this.deps.timing.maxBackoffMs);
    }
  }

  /** Stops the runtime (if any) and forgets it. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.set('stopping');
    await this.loop?.catch(() => {});
    if (this.record) await stopProcess(this.record, this.deps.timing.stopGraceMs);
    await forgetRecord(this.deps.dir);
    await this.tail.poll().catch(() => {});
    this.set('stopped');
  }

  /** Leaves the runtime running for the next agent to adopt. */
  detach(): void {
    this.abort.abort();
  }
}
