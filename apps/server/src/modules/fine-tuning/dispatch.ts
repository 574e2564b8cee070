import type { Readable } from 'node:stream';
import type {
  ArtifactQuery,
  DesiredRun,
  RunData,
  RunReport,
  TrainingDesired,
  TrainingPoll,
} from '@maas/contracts/agent';
import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import { applyTrainerLines } from './apply-lines.ts';
import { storeArtifact } from './artifacts.ts';
import { failJob } from './finish-job.ts';
import { BASE_LEARNING_RATE } from './hyperparameters.ts';
import { addEvent } from './job-log.ts';
import { type FineTuningJobRow, fineTuningJobs, trainingNodes } from './schema.ts';
import { type FineTuningFiles, readText } from './service.ts';
import { splitDataset } from './validate-dataset.ts';

export interface DispatchDeps {
  db: Db;
  files: FineTuningFiles;
  log: Logger;
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

  async function apply(nodeId: string, rep: RunReport): Promise<boolean> {
    return db.transaction(async (tx) => {
      const [job] = await tx
        .select()
        .from(fineTuningJobs)
        .where(and(eq(fineTuningJobs.id, rep.id), eq(fineTuningJobs.nodeId, nodeId)))
        .for('update');
      if (!job || job.attempt !== rep.attempt || job.status !== 'running' || job.progress?.publishing)
        return false;
      const out = await applyTrainerLines(tx, job, rep.lines);
      if (rep.state === 'failed') {
        await failJob(
          tx,
          job,
          'training_failed',
          `Training failed: ${rep.reason ?? 'the trainer stopped without saying why'}`,
        );
        log.info({ job: job.id }, 'fine-tuning run failed');
        return false;
      }
      if (rep.state !== 'succeeded') return false;
      // trained: the adapter is served on the base deployment and checked before `succeeded`
      const [fresh] = await tx.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, job.id));
      await tx
        .update(fineTuningJobs)
        .set({
          trainedTokens: out.trainedTokens ?? fresh!.trainedTokens,
          progress: { ...(fresh!.progress ?? { step: 0, total_steps: 0 }), publishing: true },
        })
        .where(eq(fineTuningJobs.id, job.id));
      await addEvent(
        tx,
        job.id,
        `Training finished; serving the adapter on ${job.model} and checking that it answers through /v1`,
        { dedupeKey: 'trained' },
      );
      log.info({ job: job.id }, 'fine-tuning run trained');
      return true;
    });
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
      return { runs: rows.filter((r) => !r.progress?.publishing).map(toDesired) };
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

    upload: (nodeId: string, runId: string, q: ArtifactQuery, body: Readable, size: number | undefined) =>
      storeArtifact({ db, files: deps.files }, nodeId, runId, q, body, size),
  };
}

export type Dispatch = ReturnType<typeof createDispatch>;
