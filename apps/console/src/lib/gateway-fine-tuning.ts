import { call } from './gateway-files.ts';

/**
 * /v1/fine_tuning (OpenAI's jobs, events and checkpoints, plus maas's estimate and deploy), called
 * like an application calls them: with the API key of this tab. Jobs belong to the key's project.
 */

export type JobStatus =
  | 'validating_files'
  | 'queued'
  | 'running'
  | 'paused'
  | 'succeeded'
  | 'failed'
  | 'cancelled';
export const FINAL_JOB_STATUSES: JobStatus[] = ['succeeded', 'failed', 'cancelled'];
export type Method = 'supervised' | 'dpo';

export interface Hyperparameters {
  n_epochs?: number | 'auto';
  batch_size?: number | 'auto';
  learning_rate_multiplier?: number | 'auto';
  lora_rank?: number | 'auto';
  lora_alpha?: number | 'auto';
  beta?: number | 'auto';
}

/** OpenAI's FineTuningJob, plus `maas` (dataset counts, progress, node) */
export interface FineTuningJob {
  id: string;
  /** epoch seconds */
  created_at: number;
  finished_at: number | null;
  estimated_finish: number | null;
  status: JobStatus;
  model: string;
  fine_tuned_model: string | null;
  training_file: string;
  validation_file: string | null;
  result_files: string[];
  trained_tokens: number | null;
  suffix: string | null;
  seed: number;
  error: { code: string; message: string; param: string | null } | null;
  hyperparameters: Hyperparameters;
  method: { type: Method };
  maas: {
    dataset: Record<string, number>;
    progress: { step: number; total_steps: number; publishing?: boolean } | null;
    node_id: string | null;
  };
}

export interface JobEvent {
  id: string;
  created_at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  type: 'message' | 'metrics';
  data: Record<string, unknown>;
}

export interface Checkpoint {
  id: string;
  created_at: number;
  fine_tuned_model_checkpoint: string;
  step_number: number;
  metrics: { step?: number; train_loss?: number };
  maas: { file_id: string | null; download_path: string | null };
}

export interface Estimate {
  training_examples: number;
  training_tokens: number;
  trained_tokens: number;
  steps: number;
  seconds: number;
  hyperparameters: Record<string, number>;
  cost: { currency: string; nanos: number };
}

export interface JobInput {
  model: string;
  training_file: string;
  suffix?: string;
  method: { type: Method } & Partial<Record<Method, { hyperparameters: Hyperparameters }>>;
}

const path = (id: string, rest = '') => `/v1/fine_tuning/jobs/${encodeURIComponent(id)}${rest}`;

export const listJobs = async (apiKey: string) =>
  (await call<{ data: FineTuningJob[] }>(apiKey, 'GET', '/v1/fine_tuning/jobs?limit=100')).data;
export const getJob = (apiKey: string, id: string) => call<FineTuningJob>(apiKey, 'GET', path(id));
export const createJob = (apiKey: string, body: JobInput) =>
  call<FineTuningJob>(apiKey, 'POST', '/v1/fine_tuning/jobs', body);
export const estimateJob = (apiKey: string, body: Omit<JobInput, 'suffix'>) =>
  call<Estimate>(apiKey, 'POST', '/v1/fine_tuning/estimate', body);
export const jobAction = (apiKey: string, id: string, action: 'cancel' | 'pause' | 'resume') =>
  call<FineTuningJob>(apiKey, 'POST', path(id, `/${action}`));
export const deployJob = (apiKey: string, id: string) =>
  call<{ model: string | null; base: string; replicas: number; loaded: number }>(
    apiKey,
    'POST',
    path(id, '/deploy'),
  );

/** Every event of a job, oldest first (the API pages newest first). */
export async function listEvents(apiKey: string, id: string): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  let after = '';
  for (let page = 0; page < 50; page++) {
    const q = `?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const res = await call<{ data: JobEvent[]; has_more: boolean }>(apiKey, 'GET', path(id, `/events${q}`));
    out.push(...res.data);
    if (!res.has_more || res.data.length === 0) break;
    after = res.data.at(-1)!.id;
  }
  return out.reverse();
}

export const listCheckpoints = async (apiKey: string, id: string) =>
  (await call<{ data: Checkpoint[] }>(apiKey, 'GET', path(id, '/checkpoints?limit=100'))).data;

/** The chat models this key may call: the base models a job can start from. */
export const listModels = async (apiKey: string) =>
  (await call<{ data: { id: string }[] }>(apiKey, 'GET', '/v1/models')).data.map((m) => m.id);

/** Loss points of the `metrics` events: training per step, validation where measured. */
export function lossSeries(events: JobEvent[]) {
  const train: [number, number][] = [];
  const valid: [number, number][] = [];
  for (const e of events) {
    if (e.type !== 'metrics') continue;
    const step = e.data.step;
    if (typeof step !== 'number') continue;
    if (typeof e.data.train_loss === 'number') train.push([step, e.data.train_loss]);
    if (typeof e.data.valid_loss === 'number') valid.push([step, e.data.valid_loss]);
  }
  return { train, valid };
}
