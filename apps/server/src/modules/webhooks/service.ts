import { createOutboundPolicy, type OutboundPolicy, outboundAgent } from '@maas/outbound';
import { and, lt, ne } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { AuditService } from '../audit/index.ts';
import { createDeliveryLog, type EmitOptions } from './deliveries.ts';
import { createEndpointStore } from './endpoints.ts';
import { DEFAULT_RETRY_SCHEDULE_MS, DEFAULT_RETRY_WINDOW_MS } from './retry-schedule.ts';
import { webhookDeliveries } from './schema.ts';

export const WEBHOOK_QUEUE = 'webhooks';

/** The part of the job engine webhooks use (`services.jobs`). */
export interface WebhookJobs {
  register(
    queue: string,
    opts: { concurrency: number; perOrgConcurrency?: number; maxAttempts?: number },
    handler: (ctx: { job: { payload: unknown } }) => Promise<unknown>,
  ): void;
  enqueue(
    spec: { queue: string; payload: unknown; orgId?: string | null; runAt?: Date; dedupeKey?: string },
    tx?: DbOrTx,
  ): Promise<unknown>;
}

export interface WebhookServiceDeps {
  db: Db;
  audit: AuditService;
  secrets: SecretBox;
  log: Logger;
  jobs: WebhookJobs;
  /** where receivers may be (checked at create/update and when each connection opens) */
  outbound?: OutboundPolicy;
  /** waits after each failed attempt; the last one repeats (default 5s, 5m, 30m, 2h, 5h, 10h) */
  retryScheduleMs?: readonly number[];
  /** retries stop this long after the first attempt (default 72 h) */
  retryWindowMs?: number;
  /** per attempt (default 10 s) */
  timeoutMs?: number;
  /** attempts at once in this process (default 16), and of one org across replicas (default 8) */
  concurrency?: number;
  perOrgConcurrency?: number;
  /** finished deliveries are dropped from the log this long after their last change (default 30 days) */
  retentionMs?: number;
  /** how often the log is swept (default hourly; 0: never) */
  sweepIntervalMs?: number;
  now?: () => Date;
}

/**
 * Webhooks per Standard Webhooks: endpoints per org with event filters and a signing secret,
 * deliveries on the durable job engine (one job per attempt), retries with backoff for 72 h, a
 * delivery log, replay and secret rotation. Other modules call `emit`.
 */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, log, jobs } = deps;
  const outbound = deps.outbound ?? createOutboundPolicy();
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const retentionMs = deps.retentionMs ?? 30 * 86_400_000;
  let sweeper: NodeJS.Timeout | undefined;
  // one agent for every delivery: its connections pass the outbound policy, redirects are not followed
  const dispatcher = outboundAgent(outbound, { timeout: timeoutMs, connections: 64 });
  const endpoints = createEndpointStore({
    db,
    audit: deps.audit,
    secrets: deps.secrets,
    outbound,
    now: deps.now,
  });
  const deliveries = createDeliveryLog({
    db,
    audit: deps.audit,
    log,
    endpoints,
    dispatcher,
    retrySchedule: deps.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    retryWindowMs: deps.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS,
    timeoutMs,
    now: deps.now,
    scheduled: async (d, tx) => {
      await jobs.enqueue(
        {
          queue: WEBHOOK_QUEUE,
          payload: { delivery_id: d.id, due_at: d.runAt.getTime() },
          orgId: d.orgId,
          runAt: d.runAt,
          dedupeKey: `${d.id}@${d.runAt.getTime()}`,
        },
        tx,
      );
    },
  });

  const sweep = async (before?: Date): Promise<number> => {
    const cutoff = before ?? new Date((deps.now?.() ?? new Date()).getTime() - retentionMs);
    const gone = await db
      .delete(webhookDeliveries)
      .where(and(ne(webhookDeliveries.status, 'pending'), lt(webhookDeliveries.updatedAt, cutoff)))
      .returning({ id: webhookDeliveries.id });
    if (gone.length > 0) log.info({ deliveries: gone.length }, 'old webhook deliveries dropped');
    return gone.length;
  };

  return {
    endpoints,
    deliveries,

    /** Registers the delivery queue; the job engine runs it once started. */
    start() {
      const opts = {
        concurrency: deps.concurrency ?? 16,
        perOrgConcurrency: deps.perOrgConcurrency ?? 8,
        maxAttempts: 3,
      };
      jobs.register(WEBHOOK_QUEUE, opts, async ({ job }) => {
        const p = (job.payload ?? {}) as { delivery_id?: unknown; due_at?: unknown };
        if (typeof p.delivery_id === 'string')
          await deliveries.attempt(p.delivery_id, typeof p.due_at === 'number' ? p.due_at : undefined);
      });
      const every = deps.sweepIntervalMs ?? 3_600_000;
      if (every > 0) {
        sweeper = setInterval(
          () => void sweep().catch((err: unknown) => log.warn({ err }, 'webhook log sweep failed')),
          every,
        );
        sweeper.unref();
      }
    },

    /** Drops finished deliveries last changed before `before` (default: the retention ago). */
    sweep,

    async stop() {
      if (sweeper) clearInterval(sweeper);
      await dispatcher
        .close()
        .catch((err: unknown) => log.warn({ err }, 'webhook connections did not close'));
    },

    /**
     * Sends an event to every enabled endpoint of the org whose filters match: one delivery each,
     * recorded (in `tx` when given) and queued. Idempotent per endpoint and event id: pass
     * `idempotencyKey` (e.g. the batch id) to make emitting twice send once.
     */
    emit(orgId: string, type: string, data: object, tx?: DbOrTx, opts?: EmitOptions): Promise<void> {
      return deliveries.emit(orgId, type, data, tx, opts);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
