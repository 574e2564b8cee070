import { describe, expect, it } from 'vitest';
import { estimateRun, hyperparametersInput, resolveHyperparameters } from './hyperparameters.ts';

const data = {
  examples: 100,
  tokens: 5000,
  trained_tokens_per_epoch: 2000,
  max_example_tokens: 80,
  errors: [],
};

describe('hyperparameters', () => {
  it('resolves auto by dataset size and keeps numbers as given', () => {
    const { requested, resolved } = resolveHyperparameters(
      { batch_size: 8, n_epochs: 'auto' },
      data,
      'supervised',
    );
    expect(resolved).toEqual({
      n_epochs: 2,
      batch_size: 8,
      learning_rate_multiplier: 1,
      lora_rank: 8,
      lora_alpha: 16,
    });
    expect(requested).toMatchObject({ n_epochs: 'auto', batch_size: 8, learning_rate_multiplier: 'auto' });
    expect(resolveHyperparameters({}, data, 'dpo').resolved.beta).toBe(0.1);
  });

  it('refuses values out of range and unknown names', () => {
    for (const bad of [
      { n_epochs: 0 },
      { n_epochs: 51 },
      { batch_size: 1.5 },
      { learning_rate_multiplier: 0 },
      { lora_rank: 65 },
      { warmup: 1 },
    ])
      expect(hyperparametersInput.safeParse(bad).success).toBe(false);
  });

  it('estimates steps, trained tokens and time', () => {
    const { resolved } = resolveHyperparameters({ n_epochs: 3, batch_size: 10 }, data, 'supervised');
    expect(estimateRun(data, resolved)).toMatchObject({ steps: 30, trained_tokens: 15_000 });
  });
});
