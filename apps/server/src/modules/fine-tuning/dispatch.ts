import type { DesiredRun, RunData, RunReport, TrainingDesired, TrainingPoll } from '@maas/agent/training';
import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, DbOrTx } from '../../db/client.ts';
import { nodes } from '../../db/schema.ts';
import { AppError } from '../../http/app-error.ts';
import { DEFAULT_CURRENCY, recordUsage } from '../metering/index.ts';
import { applyTrainerLines } from './apply-lines.ts';
import { fineTunedName } from './dto.ts';
import { BASE_LEARNING_RATE } from './hyperparameters.ts';
import { addEvent } from './job-log.ts';
import { type FineTuningJobRow, fineTuningJobs, trainingNodes } from './schema.ts';
import { type AdapterDeployments, deployAdapter } from './serve-adapter.ts';
import { type FineTuningFiles, readText } from './service.ts';
import { splitDataset } from './validate-dataset.ts';

export interface DispatchDeps {
  db: Db;
  files: FineTuningFiles;
  log: Logger;
  /** what one trained token costs, in nanos of DEFAULT_CURRENCY */
  priceNanosPerToken: number;
  /** serves a finished adapter (the fleet's deployments); absent: the adapter stays on its node */
  deployments?: AdapterDeployments | undefined;
}

function toDesired(j: FineTuningJobRow): DesiredRun {
  const hp = j.hyperparameters;
  return {
    id: j.id,
    attempt: j.attempt,
    method: j.method,
    base_source: j.baseSource,
    seed: j.seed,
    hyperparameters: {
      n_epochs: hp.n_epochs,
      batch_size: hp.batch_size,
      learning_rate: BASE_LEARNING_RATE * hp.learning_rate_multiplier,
      lora_rank: hp.lora_rank,
      lora_alpha: hp.lora_alpha,
      ...(hp.beta !== undefined ? { beta: hp.beta } : {}),
    },
  };
}

/**
 * The server's half of the training channel: a node's agent reports its runs and gets the runs it
 * should have (jobs placed on it and running); the dataset of a run goes only to the node it is
 * placed on. Reports of an older attempt, or of a job no longer running, change nothing.
 */
export function createDispatch(deps: DispatchDeps) {
  const { db, log } = deps;

  async function finish(
    tx: DbOrTx,
    job: FineTuningJobRow,
    rep: RunReport,
    trained: number | null,
    adapter: string | null,
  ) {
    const now = new Date();
    if (rep.state === 'succeeded') {
      const name = fineTunedName(job);
      const tokens = trained ?? job.trainedTokens ?? 0;
      await tx
        .update(fineTuningJobs)
        .set({
          status: 'succeeded',
          fineTunedModel: name,
          trainedTokens: tokens,
          finishedAt: now,
          progress: { ...(job.progress ?? { step: 0, total_steps: 0 }), ...(adapter ? { adapter } : {}) },
        })
        .where(eq(fineTuningJobs.id, job.id));
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
          costNanos: tokens * deps.priceNanosPerToken,
          currency: DEFAULT_CURRENCY,
          createdAt: job.createdAt,
        },
      ]);
      return;
    }
    const message = `Training failed: ${rep.reason ?? 'the trainer stopped without saying why'}`.slice(
      0,
      2000,
    );
    await tx
      .update(fineTuningJobs)
      .set({ status: 'failed', finishedAt: now, error: { code: 'training_failed', message, param: null } })
      .where(eq(fineTuningJobs.id, job.id));
    await addEvent(tx, job.id, message, { level: 'error', dedupeKey: 'failed' });
  }

  /** After a run succeeded: its adapter answers through /v1 under the fine-tuned model's name. */
  async function serve(job: FineTuningJobRow, nodeId: string, adapterPath: string): Promise<void> {
    if (!deps.deployments) return;
    const name = fineTunedName(job);
    try {
      const [node] = await db.select({ local: nodes.local }).from(nodes).where(eq(nodes.id, nodeId));
      await deployAdapter(deps.deployments, job, name, adapterPath, Boolean(node?.local));
      await addEvent(
        db,
        job.id,
        `Deployed ${name}: the base model with this LoRA adapter (llama.cpp --lora) on node ${nodeId}`,
        {
          dedupeKey: 'deployed',
        },
      );
    } catch (err) {
      log.warn({ err, job: job.id }, 'the fine-tuned adapter could not be deployed');
      await addEvent(
        db,
        job.id,
        `The adapter could not be deployed: ${(err as Error).message}`.slice(0, 2000),
        {
          level: 'warn',
          dedupeKey: 'deployed',
        },
      );
    }
  }

  async function apply(nodeId: string, rep: RunReport): Promise<void> {
    const succeeded = await db.transaction(async (tx) => {
      const [job] = await tx
        .select()
        .from(fineTuningJobs)
        .where(and(eq(fineTuningJobs.id, rep.id), eq(fineTuningJobs.nodeId, nodeId)))
        .for('update');
      if (!job || job.attempt !== rep.attempt || job.status !== 'running') return null;
      const out = await applyTrainerLines(tx, job, rep.lines);
      if (rep.state !== 'succeeded' && rep.state !== 'failed') return null;
      await finish(tx, job, rep, out.trainedTokens, out.adapter);
      log.info({ job: job.id, state: rep.state }, 'fine-tuning run ended');
      return rep.state === 'succeeded' ? job : null;
    });
    if (succeeded && rep.adapter_path) await serve(succeeded, nodeId, rep.adapter_path);
  }

  return {
    async poll(nodeId: string, body: TrainingPoll): Promise<TrainingDesired> {
      const now = new Date();
      await db
        .insert(trainingNodes)
        .values({ nodeId, trainer: body.trainer, slots: body.slots, seenAt: now })
        .onConflictDoUpdate({
          target: trainingNodes.nodeId,
          set: { trainer: body.trainer, slots: body.slots, seenAt: now },
        });
      for (const rep of body.runs) await apply(nodeId, rep);
      const rows = await db
        .select()
        .from(fineTuningJobs)
        .where(and(eq(fineTuningJobs.nodeId, nodeId), eq(fineTuningJobs.status, 'running')));
      return { runs: rows.map(toDesired) };
    },

    async data(nodeId: string, runId: string): Promise<RunData> {
      const [job] = await db
        .select()
        .from(fineTuningJobs)
        .where(
          and(
            eq(fineTuningJobs.id, runId),
            eq(fineTuningJobs.nodeId, nodeId),
            eq(fineTuningJobs.status, 'running'),
          ),
        );
      if (!job) throw new AppError('not_found', 'no such run on this node');
      const scope = { orgId: job.orgId, projectId: job.projectId };
      const train = await readText((await deps.files.open(scope, job.trainingFile)).body);
      if (!job.validationFile) return splitDataset(train);
      const validation = await readText((await deps.files.open(scope, job.validationFile)).body);
      return { train, validation };
    },
  };
}

export type Dispatch = ReturnType<typeof createDispatch>;
