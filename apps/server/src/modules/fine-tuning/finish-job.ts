import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { DEFAULT_CURRENCY, recordUsage } from '../metering/index.ts';
import { fineTunedName } from './dto.ts';
import { addEvent } from './job-log.ts';
import { type FineTuningJobRow, fineTuningJobs } from './schema.ts';

/** The job succeeded: its fine-tuned model is named and its trained tokens are metered. */
export async function succeedJob(tx: DbOrTx, job: FineTuningJobRow, priceNanosPerToken: number) {
  const now = new Date();
  const name = fineTunedName(job);
  const tokens = job.trainedTokens ?? 0;
  const [done] = await tx
    .update(fineTuningJobs)
    .set({
      status: 'succeeded',
      fineTunedModel: name,
      trainedTokens: tokens,
      finishedAt: now,
      progress: job.progress ? { ...job.progress, publishing: false } : null,
    })
    .where(and(eq(fineTuningJobs.id, job.id), eq(fineTuningJobs.status, 'running')))
    .returning();
  if (!done) return;
  await addEvent(tx, job.id, `New fine-tuned model created: ${name}`, { dedupeKey: 'model' });
  await addEvent(tx, job.id, 'The job has successfully completed', { dedupeKey: 'succeeded' });
  await recordUsage(tx, [
    {
      requestId: job.id,
      orgId: job.orgId,
      projectId: job.projectId,
      keyId: job.keyId ?? '',
      modelName: name,
      upstreamModel: job.model,
      endpoint: '/v1/fine_tuning/jobs',
      outcome: 'success',
      httpStatus: 200,
      promptTokens: tokens,
      latencyMs: now.getTime() - (job.startedAt ?? job.createdAt).getTime(),
      costNanos: tokens * priceNanosPerToken,
      currency: DEFAULT_CURRENCY,
      createdAt: job.createdAt,
    },
  ]);
}

/** The job failed with `code` (training_failed, parity_check_failed …); the message is its event too. */
export async function failJob(
  tx: DbOrTx,
  job: FineTuningJobRow,
  code: string,
  message: string,
  data?: Record<string, unknown>,
) {
  const text = message.slice(0, 2000);
  const [done] = await tx
    .update(fineTuningJobs)
    .set({ status: 'failed', finishedAt: new Date(), error: { code, message: text, param: null } })
    .where(and(eq(fineTuningJobs.id, job.id), eq(fineTuningJobs.status, 'running')))
    .returning();
  if (done)
    await addEvent(tx, job.id, text, { level: 'error', dedupeKey: 'failed', ...(data ? { data } : {}) });
}
