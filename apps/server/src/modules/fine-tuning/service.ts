import type { Readable } from 'node:stream';
import { and, asc, desc, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { JobEngine } from '../jobs/index.ts';
import { DEFAULT_CURRENCY } from '../metering/index.ts';
import type { ArtifactFiles } from './artifacts.ts';
import { toCheckpointDto, toEventDto, toJobDto } from './dto.ts';
import { estimateRun, type HyperparametersInput, resolveHyperparameters } from './hyperparameters.ts';
import { addEvent, newJobId } from './job-log.ts';
import { RUN_QUEUE } from './run-job.ts';
import { type FineTuningJobRow, fineTuningCheckpoints, fineTuningEvents, fineTuningJobs } from './schema.ts';
import type { AdapterServing } from './serve-adapter.ts';
import { type DatasetSummary, type Method, validateDataset } from './validate-dataset.ts';

export interface FineTuningFiles extends ArtifactFiles {
  get(
    scope: { orgId: string; projectId: string },
    id: string,
  ): Promise<{ id: string; purpose: string; bytes: number }>;
  open(scope: { orgId: string; projectId: string }, id: string): Promise<{ body: Readable }>;
}

export interface CreateJobInput {
  model: string;
  training_file: string;
  validation_file?: string | null | undefined;
  suffix?: string | null | undefined;
  seed?: number | null | undefined;
  hyperparameters?: HyperparametersInput | undefined;
  method?:
    | {
        type: Method;
        supervised?: { hyperparameters?: HyperparametersInput | undefined } | undefined;
        dpo?: { hyperparameters?: HyperparametersInput | undefined } | undefined;
      }
    | undefined;
  metadata?: Record<string, string> | null | undefined;
}

export interface FineTuningServiceDeps {
  db: Db;
  files: FineTuningFiles;
  jobs: JobEngine;
  /** the base model's GGUF source: a deployment of the org by that name, or null */
  baseSource: (orgId: string, model: string) => Promise<string | null>;
  /** a placed run changed: its node's trainer should look again */
  notify: (nodeId: string | null) => void;
  /** loads a trained adapter on its base deployment's replicas */
  serving: Pick<AdapterServing, 'ensureServed'>;
  /** what one trained token costs, in nanos of DEFAULT_CURRENCY */
  priceNanosPerToken: number;
}

export type EstimateInput = Omit<CreateJobInput, 'suffix' | 'seed' | 'metadata' | 'validation_file'>;

/** Fine-tuning datasets are read whole (validation, token counts): this bounds one file. */
export const MAX_DATASET_BYTES = 64 * 1024 * 1024;

const invalid = (message: string, param: string) =>
  new AppError('validation_failed', message, undefined, { param });
const notFound = (id: string) =>
  new AppError('not_found', `No fine-tuning job found with id '${id.slice(0, 100)}'.`, undefined, {
    param: 'fine_tuning_job_id',
  });

export async function readText(body: Readable, max = MAX_DATASET_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += (chunk as Buffer).length;
    if (n > max) {
      body.destroy();
      throw invalid(`A fine-tuning file may hold at most ${max} bytes.`, 'training_file');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** /v1/fine_tuning/jobs for one key's project: another project's or org's jobs do not exist here. */
export function createFineTuningService(deps: FineTuningServiceDeps) {
  const { db, files, jobs } = deps;
  const own = (key: KeyPrincipal, id: string) =>
    and(
      eq(fineTuningJobs.id, id),
      eq(fineTuningJobs.orgId, key.orgId),
      eq(fineTuningJobs.projectId, key.projectId),
    );

  async function load(key: KeyPrincipal, id: string): Promise<FineTuningJobRow> {
    const [row] = await db.select().from(fineTuningJobs).where(own(key, id));
    if (!row) throw notFound(id);
    return row;
  }

  async function dataset(
    key: KeyPrincipal,
    id: string,
    param: string,
    method: Method,
  ): Promise<DatasetSummary> {
    const scope = { orgId: key.orgId, projectId: key.projectId };
    const file = await files.get(scope, id).catch((err: unknown) => {
      if (err instanceof AppError && err.status === 404)
        throw invalid(`File '${id.slice(0, 100)}' not found.`, param);
      throw err;
    });
    if (file.purpose !== 'fine-tune')
      throw invalid(
        `File ${id} has purpose '${file.purpose}'; fine-tuning needs purpose 'fine-tune'.`,
        param,
      );
    const summary = validateDataset(await readText((await files.open(scope, id)).body), method);
    if (summary.errors.length > 0) {
      const lines = summary.errors.map((e) => `line ${e.line}: ${e.message}`).join('; ');
      throw new AppError(
        'validation_failed',
        `File ${id} is not a valid ${method === 'dpo' ? 'preference' : 'chat'} fine-tuning file: ${lines}`,
        { errors: summary.errors },
        { param },
      );
    }
    return summary;
  }

  async function setStatus(row: FineTuningJobRow, status: FineTuningJobRow['status'], message: string) {
    const [updated] = await db.transaction(async (tx) => {
      const out = await tx
        .update(fineTuningJobs)
        .set({
          status,
          ...(status === 'cancelled' ? { finishedAt: new Date() } : {}),
          ...(status === 'paused' ? { pauseRequested: 0 } : {}),
        })
        .where(and(eq(fineTuningJobs.id, row.id), eq(fineTuningJobs.status, row.status)))
        .returning();
      if (out[0]) await addEvent(tx, row.id, message);
      return out;
    });
    if (!updated)
      throw new AppError('conflict', `The job changed meanwhile (now '${row.status}'); try again.`);
    deps.notify(row.nodeId);
    return updated;
  }

  async function enqueueRun(row: FineTuningJobRow, round: number | string) {
    const engineJob = await jobs.enqueue({
      queue: RUN_QUEUE,
      orgId: row.orgId,
      payload: { fine_tuning_job_id: row.id },
      dedupeKey: `${row.id}:${round}`,
      maxAttempts: 3,
    });
    await db.update(fineTuningJobs).set({ engineJobId: engineJob.id }).where(eq(fineTuningJobs.id, row.id));
  }

  async function plan(key: KeyPrincipal, input: EstimateInput) {
    const method: Method = input.method?.type ?? 'supervised';
    const hpInput =
      (method === 'dpo' ? input.method?.dpo?.hyperparameters : input.method?.supervised?.hyperparameters) ??
      input.hyperparameters ??
      {};
    const baseSource = await deps.baseSource(key.orgId, input.model);
    if (!baseSource)
      throw new AppError(
        'model_not_found',
        `Model '${input.model}' is not a deployed base model of this organization that can be fine-tuned.`,
        undefined,
        { param: 'model' },
      );
    const train = await dataset(key, input.training_file, 'training_file', method);
    return { method, hpInput, baseSource, train };
  }

  return {
    /** maas: what a job would run (examples, tokens, steps, time, cost) without creating it */
    async estimate(key: KeyPrincipal, input: EstimateInput) {
      const { method, hpInput, train } = await plan(key, input);
      const { resolved } = resolveHyperparameters(hpInput, train, method);
      const est = estimateRun(train, resolved);
      return {
        object: 'fine_tuning.estimate' as const,
        model: input.model,
        method,
        hyperparameters: resolved,
        training_examples: train.examples,
        training_tokens: train.tokens,
        ...est,
        cost: { currency: DEFAULT_CURRENCY, nanos: est.trained_tokens * deps.priceNanosPerToken },
      };
    },

    /**
     * maas: serves a trained adapter on its base deployment again: a succeeded job's adapter is
     * loaded on the base's current replicas; a job that failed its parity check (no replica ran
     * then) is checked again and succeeds or fails anew.
     */
    async deploy(key: KeyPrincipal, id: string) {
      const row = await load(key, id);
      if (!row.resultFileId)
        throw invalid(
          `Job ${id} has no trained adapter to deploy (it is ${row.status}).`,
          'fine_tuning_job_id',
        );
      if (row.status === 'succeeded') {
        const served = await deps.serving.ensureServed(row).catch((err: unknown) => {
          throw new AppError('unprocessable', `The adapter could not be deployed: ${(err as Error).message}`);
        });
        await addEvent(db, row.id, `Deployed again on ${served.replicas} replica(s) of ${row.model}`);
        return {
          object: 'fine_tuning.job.deployment' as const,
          model: row.fineTunedModel,
          base: row.model,
          ...served,
        };
      }
      if (row.status !== 'failed' || row.error?.code !== 'parity_check_failed')
        throw invalid(
          `Job ${id} is ${row.status}; only a succeeded job or one that failed its parity check can be deployed.`,
          'fine_tuning_job_id',
        );
      const [again] = await db
        .update(fineTuningJobs)
        .set({
          status: 'running',
          error: null,
          finishedAt: null,
          progress: { ...(row.progress ?? { step: 0, total_steps: 0 }), publishing: true },
        })
        .where(and(eq(fineTuningJobs.id, row.id), eq(fineTuningJobs.status, 'failed')))
        .returning();
      if (!again) throw new AppError('conflict', 'The job changed meanwhile; try again.');
      // the earlier check's events stay in the log; the new check writes its own
      for (const k of ['parity', 'failed'])
        await db
          .update(fineTuningEvents)
          .set({ dedupeKey: `${k}:${Date.now()}` })
          .where(and(eq(fineTuningEvents.jobId, row.id), eq(fineTuningEvents.dedupeKey, k)));
      await addEvent(
        db,
        row.id,
        `Deploy requested: serving the adapter on ${row.model} and checking it again`,
      );
      await enqueueRun(again, `deploy-${Date.now()}`);
      return {
        object: 'fine_tuning.job.deployment' as const,
        model: null,
        base: row.model,
        replicas: 0,
        loaded: 0,
      };
    },

    async create(key: KeyPrincipal, input: CreateJobInput) {
      const { method, hpInput, baseSource, train } = await plan(key, input);
      const valid = input.validation_file
        ? await dataset(key, input.validation_file, 'validation_file', method)
        : null;
      const { requested, resolved } = resolveHyperparameters(hpInput, train, method);
      const estimate = estimateRun(train, resolved);
      const id = newJobId();
      const row = await db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(fineTuningJobs)
          .values({
            id,
            orgId: key.orgId,
            projectId: key.projectId,
            keyId: key.keyId,
            model: input.model,
            baseSource,
            trainingFile: input.training_file,
            validationFile: input.validation_file ?? null,
            method,
            requested,
            hyperparameters: resolved,
            suffix: input.suffix ?? null,
            seed: input.seed ?? Math.floor(Math.random() * 2 ** 31),
            status: 'queued',
            dataset: {
              training_examples: train.examples,
              training_tokens: train.tokens,
              validation_examples: valid?.examples ?? 0,
              estimated_trained_tokens: estimate.trained_tokens,
              estimated_steps: estimate.steps,
              estimated_seconds: estimate.seconds,
            },
            estimatedFinish: new Date(Date.now() + estimate.seconds * 1000),
            metadata: input.metadata ?? null,
          })
          .returning();
        await addEvent(tx, id, `Validating training file: ${input.training_file}`);
        await addEvent(
          tx,
          id,
          `Files validated: ${train.examples} examples, ${train.tokens} tokens; estimated ${estimate.steps} steps, ${estimate.trained_tokens} trained tokens, ~${estimate.seconds} s`,
          { data: { ...estimate, examples: train.examples } },
        );
        await addEvent(tx, id, 'Fine-tuning job created and queued');
        return inserted!;
      });
      await enqueueRun(row, 0);
      return toJobDto(row);
    },

    async list(key: KeyPrincipal, after: string | undefined, limit: number) {
      const where = and(
        eq(fineTuningJobs.orgId, key.orgId),
        eq(fineTuningJobs.projectId, key.projectId),
        after ? lt(fineTuningJobs.id, after) : undefined,
      );
      const rows = await db
        .select()
        .from(fineTuningJobs)
        .where(where)
        .orderBy(desc(fineTuningJobs.id))
        .limit(limit + 1);
      return {
        object: 'list' as const,
        data: rows.slice(0, limit).map(toJobDto),
        has_more: rows.length > limit,
      };
    },

    get: async (key: KeyPrincipal, id: string) => toJobDto(await load(key, id)),

    async cancel(key: KeyPrincipal, id: string) {
      const row = await load(key, id);
      if (['succeeded', 'failed', 'cancelled'].includes(row.status))
        throw invalid(
          `Job ${id} has already ${row.status === 'cancelled' ? 'been cancelled' : row.status}.`,
          'fine_tuning_job_id',
        );
      const out = await setStatus(row, 'cancelled', 'Fine-tuning job cancelled');
      if (row.engineJobId) await jobs.cancel(row.engineJobId);
      return toJobDto(out);
    },

    async pause(key: KeyPrincipal, id: string) {
      const row = await load(key, id);
      if (row.status !== 'running' && row.status !== 'queued')
        throw invalid(
          `Only a queued or running job can be paused; job ${id} is ${row.status}.`,
          'fine_tuning_job_id',
        );
      const out = await setStatus(
        row,
        'paused',
        'Fine-tuning job paused: the trainer stops; resume continues from the last checkpoint',
      );
      if (row.engineJobId) await jobs.cancel(row.engineJobId);
      return toJobDto(out);
    },

    async resume(key: KeyPrincipal, id: string) {
      const row = await load(key, id);
      if (row.status !== 'paused')
        throw invalid(`Only a paused job can be resumed; job ${id} is ${row.status}.`, 'fine_tuning_job_id');
      const out = await setStatus(row, 'queued', 'Fine-tuning job resumed');
      await enqueueRun(out, out.attempt + 1);
      return toJobDto(out);
    },

    async events(key: KeyPrincipal, id: string, after: string | undefined, limit: number) {
      await load(key, id);
      const rows = await db
        .select()
        .from(fineTuningEvents)
        .where(and(eq(fineTuningEvents.jobId, id), after ? lt(fineTuningEvents.id, after) : undefined))
        .orderBy(desc(fineTuningEvents.id))
        .limit(limit + 1);
      return {
        object: 'list' as const,
        data: rows.slice(0, limit).map(toEventDto),
        has_more: rows.length > limit,
      };
    },

    async checkpoints(key: KeyPrincipal, id: string, after: string | undefined, limit: number) {
      const job = await load(key, id);
      const rows = await db
        .select()
        .from(fineTuningCheckpoints)
        .where(
          and(eq(fineTuningCheckpoints.jobId, id), after ? gt(fineTuningCheckpoints.id, after) : undefined),
        )
        .orderBy(asc(fineTuningCheckpoints.step))
        .limit(limit + 1);
      const data = rows.slice(0, limit).map((c) => toCheckpointDto(c, job));
      return {
        object: 'list' as const,
        data,
        has_more: rows.length > limit,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      };
    },
  };
}

export type FineTuningService = ReturnType<typeof createFineTuningService>;
