import type { FineTuningCheckpointRow, FineTuningEventRow, FineTuningJobRow } from './schema.ts';

const unix = (d: Date | null | undefined) => (d ? Math.floor(d.getTime() / 1000) : null);

/** OpenAI's FineTuningJob object. */
export function toJobDto(r: FineTuningJobRow) {
  const hp = { ...r.requested };
  for (const [k, v] of Object.entries(r.hyperparameters))
    if (hp[k] === 'auto' || hp[k] === undefined) hp[k] = v;
  const { beta, ...common } = hp;
  return {
    id: r.id,
    object: 'fine_tuning.job' as const,
    created_at: unix(r.createdAt)!,
    error: r.error ?? null,
    fine_tuned_model: r.fineTunedModel,
    finished_at: unix(r.finishedAt),
    hyperparameters: common,
    model: r.model,
    organization_id: r.orgId,
    result_files: r.resultFileId ? [r.resultFileId] : [],
    seed: r.seed,
    status: r.status,
    trained_tokens: r.trainedTokens ?? null,
    training_file: r.trainingFile,
    validation_file: r.validationFile,
    estimated_finish: unix(r.estimatedFinish),
    integrations: [] as unknown[],
    metadata: r.metadata ?? null,
    suffix: r.suffix,
    method:
      r.method === 'dpo'
        ? { type: 'dpo' as const, dpo: { hyperparameters: { ...common, beta: beta ?? 'auto' } } }
        : { type: 'supervised' as const, supervised: { hyperparameters: common } },
    /** maas: examples and tokens counted at validation, steps reported by the trainer */
    maas: {
      dataset: r.dataset,
      progress: r.progress,
      node_id: r.nodeId,
    },
  };
}

export function toEventDto(e: FineTuningEventRow) {
  return {
    id: e.id,
    object: 'fine_tuning.job.event' as const,
    created_at: unix(e.createdAt)!,
    level: e.level,
    message: e.message,
    type: e.type,
    data: e.data ?? {},
  };
}

export function toCheckpointDto(c: FineTuningCheckpointRow, job: FineTuningJobRow) {
  return {
    id: c.id,
    object: 'fine_tuning.job.checkpoint' as const,
    created_at: unix(c.createdAt)!,
    fine_tuned_model_checkpoint: `${job.fineTunedModel ?? fineTunedName(job)}:ckpt-step-${c.step}`,
    fine_tuning_job_id: job.id,
    metrics: c.metrics,
    step_number: c.step,
    /** maas: the checkpoint's state in the file store (a file of the job's project) */
    maas: {
      file_id: c.fileId,
      download_path: c.fileId ? `/v1/files/${c.fileId}/content` : null,
    },
  };
}

/** `ft:<base>:<org>:<suffix>:<id>` (OpenAI's shape; the id part is the job's own suffix). */
export function fineTunedName(job: Pick<FineTuningJobRow, 'model' | 'orgId' | 'suffix' | 'id'>): string {
  return `ft:${job.model}:${job.orgId}:${job.suffix ?? ''}:${job.id.replace(/^ftjob-/, '')}`;
}
