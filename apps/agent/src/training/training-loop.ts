import { join } from 'node:path';
import type { TrainingTransport } from '@maas/contracts/agent';
import { ownerOnlyDir } from '../supervisor/runtime-process.ts';
import { defaultPreset, probeTorch, type TrainerPreset } from './trainer-preset.ts';
import { TrainingRun } from './training-run.ts';

export interface TrainingLoopOptions {
  transport: TrainingTransport;
  /** the agent's data directory: runs live under `trainings/<job id>/` */
  dataDir: string;
  preset?: TrainerPreset;
  /** runs at once on this node */
  slots?: number;
  pollMs?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export type TrainingLoop = Awaited<ReturnType<typeof startTrainingLoop>>;

/**
 * The agent's half of the training channel: when the preset's python imports torch, asks the server
 * for this node's runs every `pollMs` (and at once after a change), starts the new ones, stops
 * those no longer wanted, and reports states and trainer lines. Null when the node cannot train.
 */
export async function startTrainingLoop(opts: TrainingLoopOptions) {
  const preset = opts.preset ?? defaultPreset();
  const log = opts.log ?? (() => {});
  const torch = await probeTorch(preset);
  if (!torch) {
    log('training: python3 with torch is not available; this node offers no training');
    return null;
  }
  const root = join(opts.dataDir, 'trainings');
  await ownerOnlyDir(root);
  const runs = new Map<string, TrainingRun>();
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function tick(): Promise<void> {
    // a report's lines are dropped only once the server took it: a failed poll sends them again
    const sent = [...runs.values()].map((r) => [r, r.report()] as const);
    const desired = await opts.transport.poll({
      trainer: `${preset.name} torch ${torch}`,
      slots: opts.slots ?? 1,
      runs: sent.map(([, report]) => report),
    });
    for (const [r, report] of sent) r.delivered(report);
    const wanted = new Map(desired.runs.map((r) => [`${r.id}:${r.attempt}`, r]));
    for (const [key, run] of runs) {
      if (wanted.has(key)) continue;
      runs.delete(key);
      await run.stop();
    }
    for (const [key, spec] of wanted) {
      if (runs.has(key) || stopped) continue;
      const run = new TrainingRun(spec, {
        dir: join(root, spec.id),
        preset,
        transport: opts.transport,
        onChange: () => schedule(50),
      });
      runs.set(key, run);
      log('training: run starts', { job: spec.id, attempt: spec.attempt });
      void run.start();
    }
  }

  function run(): void {
    if (busy) {
      again = true;
      return;
    }
    busy = tick()
      .catch((err: unknown) => log(`training poll failed: ${(err as Error).message}`))
      .finally(() => {
        busy = null;
        if (again) {
          again = false;
          schedule(0);
        } else schedule(opts.pollMs ?? 1_000);
      });
  }

  function schedule(ms: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  }

  schedule(0);
  return {
    torch,
    /** a run of this node changed on the server: look now */
    nudge: () => schedule(0),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await busy;
      await Promise.all([...runs.values()].map((r) => r.stop()));
      runs.clear();
    },
  };
}
