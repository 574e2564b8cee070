import { createHash } from 'node:crypto';
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import { type AuditContext, type AuditService, systemActor } from '../audit/index.ts';
import { type AttemptOutcome, deliverOnce } from './deliver.ts';
import { type DeliveryRow, toDeliveryDto } from './dto.ts';
import type { EndpointStore } from './endpoints.ts';
import { matchesEvent, TEST_EVENT } from './event-types.ts';
import { nextAttemptAt } from './retry-schedule.ts';
import { webhookDeliveries, webhookEndpoints } from './schema.ts';

/** Largest event body (serialised) maas sends. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

export interface DeliveryDeps {
  db: Db;
  audit: AuditService;
  log: Logger;
  endpoints: EndpointStore;
  /** connections pass the outbound-request policy */
  dispatcher: Dispatcher;
  retrySchedule: readonly number[];
  retryWindowMs: number;
  timeoutMs: number;
  /** a delivery row is due now (called after the write that made it due) */
  scheduled: (delivery: { id: string; orgId: string; runAt: Date }, tx?: DbOrTx) => Promise<void>;
  now?: () => Date;
}

export interface EmitOptions {
  /** the same key for the same org and type gives the same event id: emitting twice sends once */
  idempotencyKey?: string;
}

/** The OpenAI webhook event shape: `{id, object: 'event', type, created_at, data}`. */
export function eventBody(id: string, type: string, createdAt: Date, data: object): string {
  return JSON.stringify({
    id,
    object: 'event',
    type,
    created_at: Math.floor(createdAt.getTime() / 1000),
    data,
  });
}

export function eventIdFor(orgId: string, type: string, key: string): string {
  return `evt_${createHash('sha256').update(`${orgId}\n${type}\n${key}`).digest('hex').slice(0, 26)}`;
}

/** Events to deliveries (one per matching endpoint), attempts, and the delivery log. */
export function createDeliveryLog(deps: DeliveryDeps) {
  const { db, audit, log, endpoints } = deps;
  const now = deps.now ?? (() => new Date());

  const findDelivery = async (orgId: string, id: string): Promise<DeliveryRow> => {
    const [row] = await db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.orgId, orgId)));
    if (!row) throw notFound('webhook delivery');
    return row;
  };

  const insert = async (tx: DbOrTx, rows: (typeof webhookDeliveries.$inferInsert)[]) => {
    if (rows.length === 0) return [];
    const created = await tx.insert(webhookDeliveries).values(rows).onConflictDoNothing().returning();
    for (const d of created) await deps.scheduled({ id: d.id, orgId: d.orgId, runAt: d.nextAttemptAt! }, tx);
    return created;
  };

  /** Records the outcome of one attempt and decides what comes next. */
  const record = async (row: DeliveryRow, outcome: AttemptOutcome, at: Date) => {
    const attempts = row.attempts + 1;
    const next =
      outcome.ok || outcome.gone
        ? null
        : nextAttemptAt(deps.retrySchedule, deps.retryWindowMs, attempts, row.retryStartedAt, at);
    const status = outcome.ok ? 'succeeded' : next ? 'pending' : 'failed';
    const lastError = outcome.ok
      ? null
      : outcome.gone
        ? `${outcome.error}: the endpoint was disabled`
        : next
          ? outcome.error
          : `${outcome.error}; gave up after ${attempts} attempts`;
    // the outcome and the next attempt's job commit together: a crash leaves no delivery unscheduled
    await db.transaction(async (tx) => {
      const [after] = await tx
        .update(webhookDeliveries)
        .set({
          status,
          attempts,
          responseStatus: outcome.status,
          responseSnippet: outcome.snippet,
          lastError,
          lastAttemptAt: at,
          nextAttemptAt: next,
          updatedAt: now(),
        })
        .where(and(eq(webhookDeliveries.id, row.id), eq(webhookDeliveries.status, 'pending')))
        .returning();
      if (after && next) await deps.scheduled({ id: after.id, orgId: after.orgId, runAt: next }, tx);
    });
    if (outcome.gone)
      await endpoints.disable(row.endpointId, 'the receiver answered 410 Gone', systemActor());
    log.info(
      { delivery_id: row.id, endpoint_id: row.endpointId, status, response_status: outcome.status, attempts },
      'webhook attempt',
    );
  };

  return {
    findDelivery,

    /** Records one delivery per enabled endpoint of the org whose filters match, and schedules each. */
    async emit(orgId: string, type: string, data: object, tx?: DbOrTx, opts: EmitOptions = {}) {
      const at = now();
      const eventId = opts.idempotencyKey ? eventIdFor(orgId, type, opts.idempotencyKey) : newId('evt');
      const payload = eventBody(eventId, type, at, data);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES)
        throw new Error(`webhook event ${type} is too large`);
      const list = await (tx ?? db)
        .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.enabled, true)));
      const rows = list
        .filter((e) => matchesEvent(e.events, type))
        .map((e) => ({
          id: newId('whd'),
          orgId,
          endpointId: e.id,
          eventId,
          eventType: type,
          payload,
          nextAttemptAt: at,
          retryStartedAt: at,
        }));
      if (rows.length === 0) return;
      // each delivery and its job commit together (in the caller's transaction when given)
      if (tx) await insert(tx, rows);
      else await db.transaction((t) => insert(t, rows));
    },

    /**
     * One attempt of a due delivery (what the queue runs). A delivery no longer pending is left
     * alone, and so is one rescheduled since the job was queued (`dueAt`: the job's run time; a replay
     * or a recorded attempt moved it), so a job that runs twice never sends twice.
     */
    async attempt(id: string, dueAt?: number): Promise<void> {
      const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
      if (row?.status !== 'pending') return;
      if (dueAt !== undefined && row.nextAttemptAt?.getTime() !== dueAt) return;
      const [endpoint] = await db
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.id, row.endpointId));
      if (!endpoint?.enabled) {
        await db
          .update(webhookDeliveries)
          .set({
            status: 'failed',
            lastError: 'the endpoint is disabled',
            nextAttemptAt: null,
            updatedAt: now(),
          })
          .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'pending')));
        return;
      }
      const at = now();
      const outcome = await deliverOnce(
        {
          url: endpoint.url,
          messageId: row.id,
          payload: row.payload,
          secrets: endpoints.signingSecrets(endpoint, at),
        },
        { dispatcher: deps.dispatcher, timeoutMs: deps.timeoutMs, now: () => at },
      );
      await record(row, outcome, at);
    },

    async list(
      p: Principal,
      endpointId: string,
      q: {
        limit: number;
        cursor?: string | undefined;
        status?: DeliveryRow['status'] | undefined;
        event_type?: string | undefined;
      },
    ) {
      await endpoints.find(db, p.orgId, endpointId);
      return db
        .select()
        .from(webhookDeliveries)
        .where(
          and(
            eq(webhookDeliveries.endpointId, endpointId),
            eq(webhookDeliveries.orgId, p.orgId),
            q.cursor ? lt(webhookDeliveries.id, q.cursor) : undefined,
            q.status ? eq(webhookDeliveries.status, q.status) : undefined,
            q.event_type ? eq(webhookDeliveries.eventType, q.event_type) : undefined,
          ),
        )
        .orderBy(desc(webhookDeliveries.id))
        .limit(q.limit + 1);
    },

    async get(p: Principal, id: string) {
      return findDelivery(p.orgId, id);
    },

    /** Sends a delivery again now (same webhook-id and body), with a fresh retry window. */
    async replay(p: Principal, id: string, ctx: AuditContext) {
      const before = await findDelivery(p.orgId, id);
      const endpoint = await endpoints.find(db, p.orgId, before.endpointId);
      if (!endpoint.enabled) throw conflict('the endpoint is disabled; enable it before replaying');
      const at = now();
      return db.transaction(async (tx) => {
        const [after] = await tx
          .update(webhookDeliveries)
          .set({ status: 'pending', nextAttemptAt: at, retryStartedAt: at, updatedAt: at })
          .where(eq(webhookDeliveries.id, id))
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'webhook_delivery.replay',
          target: { type: 'webhook_delivery', id },
          before: toDeliveryDto(before),
        });
        await deps.scheduled({ id, orgId: p.orgId, runAt: at }, tx);
        return after!;
      });
    },

    /** Sends a `webhook.test` event to one endpoint, whatever its filters say. */
    async sendTest(p: Principal, endpointId: string, ctx: AuditContext) {
      const endpoint = await endpoints.find(db, p.orgId, endpointId);
      if (!endpoint.enabled) throw new AppError('conflict', 'the endpoint is disabled; enable it first');
      const at = now();
      const eventId = newId('evt');
      const payload = eventBody(eventId, TEST_EVENT, at, {
        endpoint_id: endpointId,
        message: 'a test event from maas',
      });
      return db.transaction(async (tx) => {
        const [row] = await insert(tx, [
          {
            id: newId('whd'),
            orgId: p.orgId,
            endpointId,
            eventId,
            eventType: TEST_EVENT,
            payload,
            nextAttemptAt: at,
            retryStartedAt: at,
          },
        ]);
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'webhook_endpoint.test',
          target: { type: 'webhook_endpoint', id: endpointId },
          after: toDeliveryDto(row!),
        });
        return row!;
      });
    },
  };
}

export type DeliveryLog = ReturnType<typeof createDeliveryLog>;
