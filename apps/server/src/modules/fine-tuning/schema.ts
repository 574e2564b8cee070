import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export type FineTuningStatus =
  | 'validating_files'
  | 'queued'
  | 'running'
  | 'paused'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/** The numbers the trainer runs with, once `auto` is resolved. */
export interface ResolvedHyperparameters {
  n_epochs: number;
  batch_size: number;
  learning_rate_multiplier: number;
  lora_rank: number;
  lora_alpha: number;
  beta?: number;
}

/** What the tenant asked for (`auto` or a number), echoed as OpenAI does. */
export type RequestedHyperparameters = Record<string, number | 'auto'>;

/**
 * OpenAI's fine-tuning jobs, per project. The run itself is a job on the engine (`engine_job_id`)
 * placed on a fleet node (`node_id`) whose agent runs the trainer preset; `attempt` counts the
 * placements, and each report names its attempt so a stale run's lines are ignored.
 */
export const fineTuningJobs = pgTable(
  'fine_tuning_jobs',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    projectId: text('project_id').notNull(),
    keyId: text('key_id'),
    /** the base model as the tenant named it (a deployment of the org) */
    model: text('model').notNull(),
    /** the base model's GGUF as its deployment names it: only nodes see it */
    baseSource: text('base_source').notNull(),
    trainingFile: text('training_file').notNull(),
    validationFile: text('validation_file'),
    method: text('method', { enum: ['supervised', 'dpo'] }).notNull(),
    requested: jsonb('requested').$type<RequestedHyperparameters>().notNull(),
    hyperparameters: jsonb('hyperparameters').$type<ResolvedHyperparameters>().notNull(),
    suffix: text('suffix'),
    seed: integer('seed').notNull(),
    status: text('status').$type<FineTuningStatus>().notNull(),
    /** a pause asked for: the run stops at its next checkpoint and waits */
    pauseRequested: integer('pause_requested').notNull().default(0),
    fineTunedModel: text('fine_tuned_model'),
    error: jsonb('error').$type<{ code: string; message: string; param: string | null } | null>(),
    trainedTokens: bigint('trained_tokens', { mode: 'number' }),
    /** training / validation examples and tokens, from validation */
    dataset: jsonb('dataset').$type<Record<string, number>>().notNull(),
    estimatedFinish: ts('estimated_finish'),
    nodeId: text('node_id'),
    attempt: integer('attempt').notNull().default(0),
    engineJobId: text('engine_job_id'),
    /** the last step reported and the adapter's path on the node once written */
    progress: jsonb('progress').$type<{
      step: number;
      total_steps: number;
      adapter?: string;
      /** the trainer finished: the adapter is being served and checked before `succeeded` */
      publishing?: boolean;
    } | null>(),
    /** the LoRA adapter GGUF in the file store (uploaded by the node; owner-only, the job's project) */
    resultFileId: text('result_file_id'),
    metadata: jsonb('metadata').$type<Record<string, string> | null>(),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('fine_tuning_jobs_project_idx').on(t.projectId, t.id),
    index('fine_tuning_jobs_node_idx').on(t.nodeId),
  ],
);

export const fineTuningEvents = pgTable(
  'fine_tuning_events',
  {
    id: text('id').primaryKey(),
    jobId: text('job_id')
      .notNull()
      .references(() => fineTuningJobs.id, { onDelete: 'cascade' }),
    level: text('level', { enum: ['info', 'warn', 'error'] }).notNull(),
    /** message | metrics */
    type: text('type').notNull(),
    message: text('message').notNull(),
    data: jsonb('data').$type<Record<string, unknown> | null>(),
    /** one event per key: a report sent twice stores it once */
    dedupeKey: text('dedupe_key'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('fine_tuning_events_job_idx').on(t.jobId, t.id),
    uniqueIndex('fine_tuning_events_dedupe_uq').on(t.jobId, t.dedupeKey),
  ],
);

export const fineTuningCheckpoints = pgTable(
  'fine_tuning_checkpoints',
  {
    id: text('id').primaryKey(),
    jobId: text('job_id')
      .notNull()
      .references(() => fineTuningJobs.id, { onDelete: 'cascade' }),
    step: integer('step').notNull(),
    metrics: jsonb('metrics').$type<Record<string, number>>().notNull(),
    /** the checkpoint's state in the file store, once the node uploaded it */
    fileId: text('file_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('fine_tuning_checkpoints_step_uq').on(t.jobId, t.step)],
);

/** Fleet nodes whose agent offers the training preset: what it runs with and when it last asked for work. */
export const trainingNodes = pgTable('training_nodes', {
  nodeId: text('node_id').primaryKey(),
  trainer: text('trainer').notNull(),
  slots: integer('slots').notNull().default(1),
  seenAt: ts('seen_at').notNull().defaultNow(),
});

export type FineTuningJobRow = typeof fineTuningJobs.$inferSelect;
export type FineTuningEventRow = typeof fineTuningEvents.$inferSelect;
export type FineTuningCheckpointRow = typeof fineTuningCheckpoints.$inferSelect;
