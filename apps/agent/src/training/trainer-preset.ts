import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DesiredRun } from '@maas/contracts/agent';

/**
 * The one trainer preset a node offers: the repository's LoRA trainer on the node's python3 with
 * torch. Which python runs it is the node operator's choice (`MAAS_TRAINER_PYTHON` of the agent's
 * own environment), never a tenant's; the arguments are the run's numbers and paths the agent
 * picked inside its own data directory.
 */
export interface TrainerPreset {
  name: string;
  python: string;
  script: string;
  /** CPU threads torch may use */
  threads: number;
  /** test hook: a pause after each step, so a test can act while a run is in flight */
  stepDelayMs: number;
}

export const TRAINER_SCRIPT = fileURLToPath(new URL('../../../../trainers/lora_trainer.py', import.meta.url));

export function defaultPreset(env: NodeJS.ProcessEnv = process.env): TrainerPreset {
  return {
    name: 'lora-cpu',
    // Debian's python3-torch is for the system python (a pyenv or venv python3 earlier on PATH lacks it)
    python: env.MAAS_TRAINER_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'),
    script: TRAINER_SCRIPT,
    threads: Math.max(1, Number(env.MAAS_TRAINER_THREADS) || 1),
    stepDelayMs: Math.max(0, Number(env.MAAS_TRAINER_STEP_DELAY_MS) || 0),
  };
}

/** The torch version the preset's python imports, or null when it cannot (the node then offers no training). */
export function probeTorch(preset: TrainerPreset): Promise<string | null> {
  if (!existsSync(preset.script)) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile(
      preset.python,
      ['-c', 'import torch; print(torch.__version__)'],
      { timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
      (err, stdout) => resolve(err ? null : stdout.trim().slice(0, 50) || null),
    );
  });
}

export interface RunPaths {
  base: string;
  train: string;
  validation: string | null;
  out: string;
}

/** The trainer's argv: the run's checked numbers and the agent's own paths, nothing else. */
export function trainerArgs(preset: TrainerPreset, run: DesiredRun, paths: RunPaths): string[] {
  const hp = run.hyperparameters;
  const args = [
    preset.script,
    '--base',
    paths.base,
    '--train',
    paths.train,
    '--out',
    paths.out,
    '--method',
    run.method,
    '--epochs',
    String(hp.n_epochs),
    '--batch-size',
    String(hp.batch_size),
    '--learning-rate',
    String(hp.learning_rate),
    '--rank',
    String(hp.lora_rank),
    '--alpha',
    String(hp.lora_alpha),
    '--seed',
    String(run.seed),
    '--threads',
    String(preset.threads),
    '--checkpoint-every',
    '2',
  ];
  if (hp.beta !== undefined) args.push('--beta', String(hp.beta));
  if (paths.validation) args.push('--validation', paths.validation);
  if (preset.stepDelayMs > 0) args.push('--step-delay-ms', String(preset.stepDelayMs));
  return args;
}
