import { desiredRun } from '@maas/contracts/agent';
import { describe, expect, it } from 'vitest';
import { defaultPreset, TRAINER_SCRIPT, trainerArgs } from './trainer-preset.ts';

const run = desiredRun.parse({
  id: 'ftjob-01abc',
  attempt: 2,
  method: 'dpo',
  base_source: '/srv/models/base.gguf',
  seed: 7,
  hyperparameters: {
    n_epochs: 3,
    batch_size: 4,
    learning_rate: 0.02,
    lora_rank: 8,
    lora_alpha: 16,
    beta: 0.1,
  },
});

describe('the trainer preset', () => {
  it("builds argv from the run's numbers and the agent's own paths only", () => {
    const preset = { ...defaultPreset({}), threads: 2, stepDelayMs: 0 };
    const args = trainerArgs(preset, run, {
      base: '/agent/models/base.gguf',
      train: '/agent/trainings/ftjob-01abc/train.jsonl',
      validation: null,
      out: '/agent/trainings/ftjob-01abc/out',
    });
    expect(args[0]).toBe(TRAINER_SCRIPT);
    expect(args).toEqual([
      TRAINER_SCRIPT,
      '--base',
      '/agent/models/base.gguf',
      '--train',
      '/agent/trainings/ftjob-01abc/train.jsonl',
      '--out',
      '/agent/trainings/ftjob-01abc/out',
      '--method',
      'dpo',
      '--epochs',
      '3',
      '--batch-size',
      '4',
      '--learning-rate',
      '0.02',
      '--rank',
      '8',
      '--alpha',
      '16',
      '--seed',
      '7',
      '--threads',
      '2',
      '--checkpoint-every',
      '2',
      '--beta',
      '0.1',
    ]);
  });

  it('takes its python from the operator, never from a run', () => {
    expect(defaultPreset({ MAAS_TRAINER_PYTHON: '/opt/py/bin/python3' }).python).toBe('/opt/py/bin/python3');
  });

  it('refuses a run whose id or numbers a tenant could have bent', () => {
    const bad = [
      { id: 'ftjob-../../etc' },
      { id: '--help' },
      { method: 'full' },
      { hyperparameters: { ...run.hyperparameters, n_epochs: 1000 } },
      { hyperparameters: { ...run.hyperparameters, extra: '--output /tmp' } },
    ];
    for (const change of bad) expect(desiredRun.safeParse({ ...run, ...change }).success).toBe(false);
  });
});
