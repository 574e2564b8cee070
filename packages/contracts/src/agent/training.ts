import { z } from 'zod';

/**
 * The training channel between a node's agent and the server: the agent asks for its runs
 * (saying which trainer it offers and how many runs it takes at once) and reports each run's state
 * and new trainer log lines in the same call; it fetches a run's dataset once, into its own data
 * directory. Every value of a run is a number or an enum: nothing a tenant typed reaches the
 * trainer's command line or environment.
 */
export const TRAINING_STATES = ['starting', 'running', 'succeeded', 'failed'] as const;

export const runReport = z.object({
  id: z.string().max(100),
  attempt: z.number().int().min(0),
  state: z.enum(TRAINING_STATES),
  /** trainer stdout lines since the previous report (JSON objects, one a line) */
  lines: z.array(z.string().max(4000)).max(2000),
  reason: z.string().max(4000).nullable().optional(),
  /** once succeeded: the LoRA adapter GGUF on this node (inside the agent's data directory) */
  adapter_path: z.string().max(2000).nullable().optional(),
});
export type RunReport = z.infer<typeof runReport>;

export const trainingPoll = z.object({
  /** e.g. `lora-cpu torch 1.13.1` */
  trainer: z.string().max(200),
  slots: z.number().int().min(1).max(64),
  runs: z.array(runReport).max(64),
});
export type TrainingPoll = z.infer<typeof trainingPoll>;

export const desiredRun = z.object({
  id: z.string().regex(/^ftjob-[a-z0-9]{1,40}$/),
  attempt: z.number().int().min(0),
  method: z.enum(['supervised', 'dpo']),
  /** the base model's GGUF (a path on the node, as its deployment names it) */
  base_source: z.string().max(2000),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31),
  hyperparameters: z.strictObject({
    n_epochs: z.number().int().min(1).max(50),
    batch_size: z.number().int().min(1).max(256),
    learning_rate: z.number().min(1e-7).max(1),
    lora_rank: z.number().int().min(1).max(64),
    lora_alpha: z.number().int().min(1).max(256),
    beta: z.number().min(0.001).max(10).optional(),
  }),
});
export type DesiredRun = z.infer<typeof desiredRun>;

export const trainingDesired = z.object({ runs: z.array(desiredRun) });
export type TrainingDesired = z.infer<typeof trainingDesired>;

export interface RunData {
  train: string;
  validation: string | null;
}

/** What a node uploads of a run: each checkpoint as it is written, the adapter before `succeeded`. */
export const ARTIFACT_KINDS = ['checkpoint', 'adapter'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export const artifactQuery = z.strictObject({
  attempt: z.coerce.number().int().min(0),
  kind: z.enum(ARTIFACT_KINDS),
  step: z.coerce.number().int().min(0).max(10_000_000),
});
export type ArtifactQuery = z.infer<typeof artifactQuery>;

export interface TrainingTransport {
  poll(body: TrainingPoll): Promise<TrainingDesired>;
  data(runId: string): Promise<RunData>;
  /** sends a file of the run (inside its directory) to the server's file store */
  upload(runId: string, artifact: ArtifactQuery, path: string): Promise<void>;
}
