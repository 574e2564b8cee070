import type { Logger } from 'pino';
import type { KeyPrincipal } from '../../../http/principal.ts';
import { newId } from '../../../ids.ts';
import {
  type JobAbortedError,
  type JobContext,
  type JobEngine,
  PermanentJobError,
} from '../../jobs/index.ts';
import type { GatewayContext } from '../context.ts';
import { revokedKeyAnswer, runInternal } from '../run-internal.ts';
import { type FileSearchDone, withFileSearch } from './file-search.ts';
import { fromChatCompletion } from './from-chat.ts';
import type { ResponseRecord } from './response-object.ts';
import type { ResponseStore } from './response-store.ts';

export const BACKGROUND_QUEUE = 'responses.background';

interface BackgroundPayload {
  responseId: string;
  principal: KeyPrincipal;
  chat: Record<string, unknown>;
  /** what the request's file_search tools found before it was queued */
  fileSearch?: FileSearchDone | null;
}

/** Saved as the job's progress once the gateway answered: a rerun after a crash reuses it. */
interface BackgroundProgress {
  request_id: string;
  status_code: number;
  body: unknown;
}

export interface BackgroundDeps {
  jobs: JobEngine;
  store: ResponseStore;
  gw: GatewayContext;
  log: Logger;
  concurrency?: number;
  perOrgConcurrency?: number;
  /** the key as it is now (null once revoked or expired); absent: the key as it was at submit */
  currentKey?: ((keyId: string) => KeyPrincipal | null) | undefined;
}

/**
 * Background responses (`background: true`) on the durable job engine: stored as `queued` and
 * answered at once; a worker on any replica runs the chat completion through the gateway's path
 * (limits, routing, one usage event) and stores the output. A cancel ends a queued job at once and
 * cuts a running one's upstream call (what it generated is metered, as for a client that hung up).
 */
export function createBackgroundResponses(deps: BackgroundDeps) {
  const { jobs, store, gw } = deps;

  async function run(ctx: JobContext): Promise<unknown> {
    const p = ctx.job.payload as BackgroundPayload;
    let answer = (ctx.job.progress ?? null) as BackgroundProgress | null;
    if (!answer) {
      const started = await store.advance(p.responseId, { status: 'in_progress' });
      if (!started) return { response_id: p.responseId, skipped: true }; // cancelled or deleted first
      const requestId = newId('req');
      const cut = new AbortController();
      // the job runs as the key is now: a key revoked while the job waited spends nothing
      const key = deps.currentKey ? deps.currentKey(p.principal.keyId) : p.principal;
      const res = key
        ? await Promise.race([
            runInternal(gw, {
              key,
              endpoint: 'chat.completions',
              body: p.chat,
              requestId,
              signal: cut.signal,
            }),
            whenCancelled(ctx.signal, cut),
          ])
        : revokedKeyAnswer();
      answer = { request_id: requestId, status_code: res.status, body: res.body };
      await ctx.heartbeat(answer);
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const completedAt = new Date();
    if (answer.status_code < 400) {
      const outcome = withFileSearch(
        fromChatCompletion((answer.body ?? {}) as Parameters<typeof fromChatCompletion>[0]),
        p.fileSearch ?? null,
      );
      await store.advance(p.responseId, { ...outcome, completedAt });
      return { response_id: p.responseId, status: outcome.status };
    }
    const err = (answer.body as { error?: { message?: unknown; code?: unknown } } | null)?.error;
    const message =
      typeof err?.message === 'string' ? err.message : `the gateway answered HTTP ${answer.status_code}`;
    const code = typeof err?.code === 'string' ? err.code : 'server_error';
    await store.advance(p.responseId, { status: 'failed', error: { code, message }, completedAt });
    throw new PermanentJobError(message);
  }

  jobs.register(
    BACKGROUND_QUEUE,
    {
      concurrency: deps.concurrency ?? 4,
      perOrgConcurrency: deps.perOrgConcurrency ?? 2,
      maxAttempts: 3,
    },
    run,
  );

  return {
    /** stores the response as queued and enqueues its job; the record as answered */
    async submit(
      record: ResponseRecord,
      chat: Record<string, unknown>,
      key: KeyPrincipal,
      fileSearch: FileSearchDone | null = null,
    ) {
      // the searches are done: a queued response shows them
      await store.insert(fileSearch ? { ...record, output: fileSearch.leading } : record);
      const payload: BackgroundPayload = { responseId: record.id, principal: key, chat, fileSearch };
      const job = await jobs.enqueue({ queue: BACKGROUND_QUEUE, orgId: key.orgId, payload, priority: -5 });
      await store.advance(record.id, { jobId: job.id }, ['queued', 'in_progress', 'completed', 'failed']);
      deps.log.info(
        { response_id: record.id, job_id: job.id, key_id: key.keyId },
        'background response queued',
      );
      return { ...record, output: fileSearch?.leading ?? record.output, jobId: job.id };
    },

    /** cancels a queued or running response (one that ended is returned as it is) */
    async cancel(record: ResponseRecord): Promise<ResponseRecord> {
      const after = await store.advance(record.id, { status: 'cancelled', completedAt: new Date() });
      const jobId = after?.jobId ?? record.jobId;
      if (after && jobId) await jobs.cancel(jobId);
      return after ?? record;
    },
  };
}

export type BackgroundResponses = ReturnType<typeof createBackgroundResponses>;

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
