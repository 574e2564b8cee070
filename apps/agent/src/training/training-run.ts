import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ArtifactQuery, DesiredRun, RunReport, TrainingTransport } from '@maas/contracts/agent';
import { ownerOnlyDir } from '../supervisor/runtime-process.ts';
import { type TrainerPreset, trainerArgs } from './trainer-preset.ts';

const MAX_PENDING = 2000;
const UPLOAD_TRIES = 3;
const UPLOAD_PAUSE_MS = 1000;

/** Whether `pid` is a trainer left by an agent that died (its process outlives it). */
async function strayTrainer(pid: number): Promise<boolean> {
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmd.includes('lora_trainer.py');
}

/**
 * One fine-tuning run on this node: fetches its dataset into the run's directory (0700, files
 * 0600), starts the preset's trainer there and collects its stdout lines for the next report. A
 * run started again in the same directory resumes from the trainer's last checkpoint.
 */
export class TrainingRun {
  state: RunReport['state'] = 'starting';
  reason: string | null = null;
  adapterPath: string | null = null;
  private pending: string[] = [];
  private stderr: string[] = [];
  private child: ChildProcess | null = null;
  private stopped = false;
  /** uploads go one at a time, in the order the trainer wrote the files */
  private uploads: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: DesiredRun,
    private readonly deps: {
      dir: string;
      preset: TrainerPreset;
      transport: TrainingTransport;
      onChange: () => void;
      /** the pause before an upload is tried again (times the tries so far) */
      uploadPauseMs?: number;
    },
  ) {}

  /** The run's state and the trainer lines the server has not taken yet (sent again until it has). */
  report(): RunReport {
    const lines = this.pending.slice();
    return {
      id: this.spec.id,
      attempt: this.spec.attempt,
      state: this.state,
      lines,
      reason: this.reason,
      adapter_path: this.adapterPath,
    };
  }

  /** The server took a report: its lines are not sent again (the server stores each line once anyway). */
  delivered(report: RunReport): void {
    this.pending.splice(0, report.lines.length);
  }

  /** Queues the upload of a file the trainer reported (`checkpoints/step-N.pt`) to the server. */
  private uploadCheckpoint(line: string, out: string) {
    let m: { type?: unknown; step?: unknown; path?: unknown };
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      return;
    }
    if (m.type !== 'checkpoint' || typeof m.step !== 'number' || typeof m.path !== 'string') return;
    if (!/^checkpoints\/step-\d+\.pt$/.test(m.path)) return;
    const file = join(out, m.path);
    const artifact = { attempt: this.spec.attempt, kind: 'checkpoint' as const, step: m.step };
    this.uploads = this.uploads.then(() =>
      this.upload(artifact, file).catch((err: unknown) => {
        // the checkpoint stays on this node (only a resume elsewhere misses it); the job says so
        const error = (err as Error).message.slice(0, 500);
        this.pending.push(JSON.stringify({ type: 'checkpoint_upload_failed', step: m.step, error }));
        this.deps.onChange();
      }),
    );
  }

  /** An upload, tried again after a pause when the server or the network failed it. */
  private async upload(artifact: ArtifactQuery, file: string) {
    for (let tries = 1; ; tries++) {
      try {
        return await this.deps.transport.upload(this.spec.id, artifact, file);
      } catch (err) {
        if (tries >= UPLOAD_TRIES || this.stopped) throw err;
        await sleep((this.deps.uploadPauseMs ?? UPLOAD_PAUSE_MS) * tries);
      }
    }
  }

  /** After the trainer: the adapter goes to the server's file store before the run is `succeeded`. */
  private async finishUploads(out: string, steps: number) {
    await this.uploads;
    const adapter = join(out, 'adapter.gguf');
    try {
      await this.upload({ attempt: this.spec.attempt, kind: 'adapter', step: steps }, adapter);
    } catch (err) {
      return this.fail(`the adapter could not be uploaded to the server: ${(err as Error).message}`);
    }
    if (this.stopped) return;
    this.adapterPath = adapter;
    this.state = 'succeeded';
    this.deps.onChange();
  }

  private fail(reason: string) {
    this.state = 'failed';
    this.reason = reason.slice(0, 4000);
    this.deps.onChange();
  }

  async start(): Promise<void> {
    const { dir, preset } = this.deps;
    try {
      await ownerOnlyDir(dir);
      const pidFile = join(dir, 'trainer.pid');
      const old = Number(await readFile(pidFile, 'utf8').catch(() => ''));
      if (old > 0 && (await strayTrainer(old))) process.kill(old, 'SIGKILL');
      const base = this.spec.base_source;
      if (!isAbsolute(base) || !existsSync(base))
        return this.fail(
          `the base model's GGUF is not on this node (${base.slice(0, 200)}); this trainer reads a local file`,
        );
      const data = await this.deps.transport.data(this.spec.id);
      const train = join(dir, 'train.jsonl');
      const validation = data.validation ? join(dir, 'validation.jsonl') : null;
      await writeFile(train, data.train, { mode: 0o600 });
      if (validation && data.validation) await writeFile(validation, data.validation, { mode: 0o600 });
      if (this.stopped) return;
      const out = join(dir, 'out');
      await ownerOnlyDir(out);
      const child = spawn(preset.python, trainerArgs(preset, this.spec, { base, train, validation, out }), {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        // only what python needs to start: no variable of the agent's reaches the trainer
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: dir,
          OMP_NUM_THREADS: String(preset.threads),
          PYTHONDONTWRITEBYTECODE: '1',
        },
      });
      this.child = child;
      if (child.pid) await writeFile(pidFile, String(child.pid), { mode: 0o600 });
      this.state = 'running';
      this.deps.onChange();
      let steps = 0;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (this.pending.length < MAX_PENDING) this.pending.push(line.slice(0, 4000));
        if (line.includes('"type": "checkpoint"')) this.uploadCheckpoint(line, out);
        const total = /"total_steps": (\d+)/.exec(line);
        if (total) steps = Number(total[1]);
        if (line.includes('"type": "checkpoint"') || line.includes('"type": "done"')) this.deps.onChange();
      });
      createInterface({ input: child.stderr! }).on('line', (line) => {
        this.stderr.push(line.slice(0, 500));
        if (this.stderr.length > 20) this.stderr.shift();
      });
      // close, not exit: the last stdout lines (the adapter's) are read by then
      child.on('close', (code, signal) => {
        this.child = null;
        if (this.stopped) return;
        if (code === 0) void this.finishUploads(out, steps);
        else
          this.fail(
            `the trainer exited with ${signal ?? `code ${code}`}: ${this.stderr.slice(-5).join(' | ')}`,
          );
      });
    } catch (err) {
      this.fail(`could not start the trainer: ${(err as Error).message}`);
    }
  }

  /** Stops the trainer (pause, cancel, or the run went elsewhere); its checkpoints stay for a resume. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
