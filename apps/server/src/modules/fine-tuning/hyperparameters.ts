import { z } from 'zod';
import type { RequestedHyperparameters, ResolvedHyperparameters } from './schema.ts';
import type { DatasetSummary, Method } from './validate-dataset.ts';

const auto = z.literal('auto');
const int = (min: number, max: number) => z.union([auto, z.number().int().min(min).max(max)]);
const num = (min: number, max: number) => z.union([auto, z.number().min(min).max(max)]);

/** The ranges a tenant may ask for; out of range is a 400 naming the parameter. */
export const hyperparametersInput = z.strictObject({
  n_epochs: int(1, 50).optional(),
  batch_size: int(1, 256).optional(),
  learning_rate_multiplier: num(0.0001, 10).optional(),
  lora_rank: int(1, 64).optional(),
  lora_alpha: int(1, 256).optional(),
  beta: num(0.001, 10).optional(),
});
export type HyperparametersInput = z.infer<typeof hyperparametersInput>;

/** The trainer's learning rate at multiplier 1 (LoRA on small models takes larger steps than full tuning). */
export const BASE_LEARNING_RATE = 0.01;

/** OpenAI's `auto`: epochs by dataset size (more passes over a small set), batch ≈ 0.2% of it. */
export function resolveHyperparameters(
  input: HyperparametersInput,
  data: DatasetSummary,
  method: Method,
): { requested: RequestedHyperparameters; resolved: ResolvedHyperparameters } {
  const n = data.examples;
  const pick = <T extends number>(v: T | 'auto' | undefined, fallback: T): T =>
    typeof v === 'number' ? v : fallback;
  const resolved: ResolvedHyperparameters = {
    n_epochs: pick(input.n_epochs, n < 30 ? 3 : n < 3000 ? 2 : 1),
    batch_size: pick(input.batch_size, Math.max(1, Math.min(32, Math.round(n * 0.002)))),
    learning_rate_multiplier: pick(input.learning_rate_multiplier, 1),
    lora_rank: pick(input.lora_rank, 8),
    lora_alpha: pick(input.lora_alpha, 16),
    ...(method === 'dpo' ? { beta: pick(input.beta, 0.1) } : {}),
  };
  const requested: RequestedHyperparameters = {};
  for (const key of Object.keys(resolved) as (keyof ResolvedHyperparameters)[])
    requested[key] = input[key] ?? 'auto';
  return { requested, resolved };
}

/** Trained tokens of the whole run and its time on a CPU node (measured: ~2k tokens/s for the tiny model). */
export function estimateRun(data: DatasetSummary, hp: ResolvedHyperparameters) {
  const tokens = data.tokens * hp.n_epochs;
  const steps = Math.ceil(data.examples / hp.batch_size) * hp.n_epochs;
  return { trained_tokens: tokens, steps, seconds: Math.ceil(10 + tokens / 2000) };
}
