import type { OutboundPolicy } from '@maas/outbound';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { AppError, notFound } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { FilesService } from '../files/index.ts';
import { revokedKeyAnswer, runInternal } from '../gateway/index.ts';
import {
  type JobAbortedError,
  type JobContext,
  type JobEngine,
  type JobRow,
  PermanentJobError,
} from '../jobs/index.ts';
import {
  ASYNC_QUEUE,
  type AsyncEndpoint,
  type AsyncJobDto,
  type AsyncPayload,
  type AsyncProgress,
  CALLBACK_QUEUE,
  toAsyncJobDto,
} from './job-dto.ts';
import { type ListJobsQuery, listAsyncJobs } from './list-jobs.ts';
import { type CallbackPayload, sendCallback } from './send-callback.ts';
import { storeAudio } from './store-audio.ts';

type GatewayContext = Parameters<typeof runInternal>[0];

export interface AsyncInferenceDeps {
  jobs: JobEngine;
  /** read-only: lists the jobs table */
  db: Db;
  gateway: GatewayContext;
  outbound: OutboundPolicy;
  log: Logger;
  /** async requests at once in this process: their own budget, apart from live traffic (default 4) */
  concurrency?: number;
  /** async requests of one org at once across replicas (default 2) */
  perOrgConcurrency?: number;
  /** gateway refusals that mean "later" (429, 503) are retried this many times in all (default 4) */
  maxAttempts?: number;
  /** the key as it is now (null once revoked or expired); absent: the key as it was at submit */
  currentKey?: ((keyId: string) => KeyPrincipal | null) | undefined;
  /** the org's webhooks: `job.completed`, `job.failed`, `job.cancelled` */
  events?: JobEvents | undefined;
  /** where the audio of async speech jobs is kept as files (absent: it is not kept) */
  files?: FilesService | undefined;
}

/** The part of the webhooks service async inference uses. */
export interface JobEvents {
  emit(
    orgId: string,
    type: string,
    data: object,
    tx?: undefined,
    opts?: { idempotencyKey?: string },
  ): Promise<void>;
}

const EVENT_OF: Partial<Record<JobRow['status'], string>> = {
  succeeded: 'job.completed',
  failed: 'job.failed',
  cancelled: 'job.cancelled',
};

/** Answers that say "later", not "no": our limits, an upstream out of capacity. */
const TRANSIENT = new Set([429, 502, 503, 504]);

export type AsyncInference = ReturnType<typeof createAsyncInference>;

/**
 * Async inference: a request is stored as a job and answered 202 at once; a worker runs it through
 * the same gateway path as live traffic (routing, fallbacks, limits, one usage row per call) and
 * keeps the OpenAI answer as the job's result. Idempotent steps: the gateway's answer is saved as
 * the job's progress before the job completes, so a job taken over after a crash reuses it instead
 * of calling (and billing) again; the callback is enqueued once per job (dedupe key).
 */
export function createAsyncInference(deps: AsyncInferenceDeps) {
  const { jobs, gateway, outbound, log } = deps;

  const owned = (row: JobRow | null, key: KeyPrincipal): row is JobRow => {
    if (!row || row.queue !== ASYNC_QUEUE) return false;
    const p = (row.payload as AsyncPayload).principal;
    return row.orgId === key.orgId && p?.projectId === key.projectId;
  };

  /** the org's webhook endpoints hear of it once per job (the event id is keyed by the job id) */
  async function notify(job: JobRow, status: JobRow['status']) {
    const type = EVENT_OF[status];
    if (!deps.events || !job.orgId || !type) return;
    const payload = job.payload as AsyncPayload;
    const data = {
      id: job.id,
      object: 'async.job',
      status,
      endpoint: payload.endpoint,
      model: payload.body?.model ?? null,
    };
    await deps.events.emit(job.orgId, type, data, undefined, { idempotencyKey: job.id });
  }

  async function finish(ctx: JobContext, dto: AsyncJobDto) {
    await notify(ctx.job, dto.status);
    const payload = ctx.job.payload as AsyncPayload;
    if (!payload.callbackUrl) return;
    const callback: CallbackPayload = { url: payload.callbackUrl, job: dto };
    await jobs.enqueue({
      queue: CALLBACK_QUEUE,
      orgId: ctx.job.orgId,
      payload: callback,
      dedupeKey: ctx.job.id,
      maxAttempts: 6,
    });
  }

  async function run(ctx: JobContext): Promise<unknown> {
    const payload = ctx.job.payload as AsyncPayload;
    let answer = (ctx.job.progress ?? null) as AsyncProgress | null;
    const transientBefore = answer && TRANSIENT.has(answer.status_code);
    if (!answer || transientBefore) {
      const requestId = newId('req');
      // a cancel answers at once and cuts the call in flight (what it generated is metered, as for a
      // client that hung up); a shutdown waits for the answer, so that it is saved and not asked for
      // again by the worker that takes over
      const cut = new AbortController();
      // the job runs as the key is now: a key revoked while the job waited spends nothing
      const key = deps.currentKey ? deps.currentKey(payload.principal.keyId) : payload.principal;
      const res = key
        ? await Promise.race([
            runInternal(gateway, {
              key,
              endpoint: payload.endpoint,
              body: payload.body,
              requestId,
              signal: cut.signal,
            }),
            whenCancelled(ctx.signal, cut),
          ])
        : revokedKeyAnswer();
      // speech audio is kept as a file of the project; the result points to it
      const body =
        res.binary && deps.files
          ? await storeAudio(deps.files, payload.principal, ctx.job.id, res.binary)
          : res.body;
      answer = { request_id: requestId, status_code: res.status, body };
      await ctx.heartbeat(answer); // saved before anything else: a rerun reuses it
    }
    if (ctx.signal.aborted) throw ctx.signal.reason; // cancelled meanwhile: no result, no callback
    const final = { ...ctx.job, progress: answer, finishedAt: new Date() };
    if (answer.status_code < 400) {
      await finish(ctx, toAsyncJobDto({ ...final, status: 'succeeded', result: answer.body, error: null }));
      return answer.body;
    }
    const err = (answer.body as { error?: { message?: unknown } } | null)?.error;
    const message =
      typeof err?.message === 'string' && err.message
        ? err.message
        : `the gateway answered HTTP ${answer.status_code}`;
    const last = !TRANSIENT.has(answer.status_code) || ctx.job.attempts >= ctx.job.maxAttempts;
    if (!last) throw new Error(message);
    await finish(ctx, toAsyncJobDto({ ...final, status: 'failed', error: message, result: null }));
    throw new PermanentJobError(message);
  }

  jobs.register(
    ASYNC_QUEUE,
    {
      concurrency: deps.concurrency ?? 4,
      perOrgConcurrency: deps.perOrgConcurrency ?? 2,
      maxAttempts: deps.maxAttempts ?? 4,
    },
    async (ctx) => {
      try {
        return await run(ctx);
      } catch (err) {
        if ((ctx.signal.reason as JobAbortedError | undefined)?.reason === 'cancelled')
          await notify(ctx.job, 'cancelled').catch((e) =>
            log.warn({ err: String(e), job_id: ctx.job.id }, 'job event not sent'),
          );
        throw err;
      }
    },
  );
  jobs.register(CALLBACK_QUEUE, { concurrency: 4 }, async (ctx) =>
    sendCallback(outbound, ctx.job.payload as CallbackPayload, ctx.signal),
  );

  return {
    async submit(
      key: KeyPrincipal,
      endpoint: AsyncEndpoint,
      input: Record<string, unknown>,
    ): Promise<AsyncJobDto> {
      const { callback_url: callbackUrl, ...body } = input;
      if (typeof body.model !== 'string' || !body.model)
        throw new AppError('validation_failed', 'model is required', undefined, { param: 'model' });
      if (body.stream === true)
        throw new AppError(
          'validation_failed',
          'async requests are not streamed: leave out stream',
          undefined,
          {
            param: 'stream',
          },
        );
      delete body.stream;
      delete body.stream_options;
      let url: string | null = null;
      if (callbackUrl !== undefined && callbackUrl !== null) {
        url = checkCallbackUrl(callbackUrl);
        const refused = await outbound.checkUrl(url);
        if (refused)
          throw new AppError('unprocessable', `callback_url ${refused.message}`, undefined, {
            param: 'callback_url',
          });
      }
      const payload: AsyncPayload = { principal: key, endpoint, body, callbackUrl: url };
      const row = await jobs.enqueue({ queue: ASYNC_QUEUE, orgId: key.orgId, payload, priority: -10 });
      log.info({ job_id: row.id, key_id: key.keyId, endpoint }, 'async request queued');
      return toAsyncJobDto(row);
    },

    /** the key's project's async jobs, newest first */
    list(key: KeyPrincipal, query: ListJobsQuery) {
      return listAsyncJobs(deps.db, key, query);
    },

    async get(key: KeyPrincipal, id: string): Promise<AsyncJobDto> {
      const row = await jobs.get(id);
      if (!owned(row, key)) throw notFound('async job');
      return toAsyncJobDto(row);
    },

    async cancel(key: KeyPrincipal, id: string): Promise<AsyncJobDto> {
      const row = await jobs.get(id);
      if (!owned(row, key)) throw notFound('async job');
      const after = (await jobs.cancel(id)) ?? row;
      // a queued job ends here; a running one ends in its handler, which sends the event
      if (row.status === 'queued' && after.status === 'cancelled') await notify(after, 'cancelled');
      return toAsyncJobDto(after);
    },
  };
}

/** Rejects when the job is cancelled (not when it is shut down), and aborts `cut` then. */
function whenCancelled(signal: AbortSignal, cut: AbortController): Promise<never> {
  return new Promise((_, reject) => {
    const check = () => {
      if ((signal.reason as JobAbortedError | undefined)?.reason !== 'cancelled') return;
      cut.abort();
      reject(signal.reason);
    };
    if (signal.aborted) check();
    else signal.addEventListener('abort', check, { once: true });
  });
}

function checkCallbackUrl(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' && value.length <= 2048 ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password)
    throw new AppError(
      'validation_failed',
      'callback_url must be an http(s) URL without credentials',
      undefined,
      {
        param: 'callback_url',
      },
    );
  return url.toString();
}
