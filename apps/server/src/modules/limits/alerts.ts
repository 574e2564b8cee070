import {
  createOutboundPolicy,
  describeNetworkError,
  type OutboundPolicy,
  outboundAgent,
} from '@maas/outbound';
import { fetch } from '@maas/outbound/undici';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, DbOrTx } from '../../db/client.ts';
import { newId } from '../../ids.ts';
import { type AuditService, systemActor } from '../audit/index.ts';
import { type NotificationRow, toNotificationDto } from './dto.ts';
import type { SoftAlert } from './engine.ts';
import { limitNotifications } from './schema.ts';

export interface AlertNotifierDeps {
  db: Db;
  audit: AuditService;
  log: Logger;
  webhookTimeoutMs?: number;
  now?: () => number;
  /** where webhooks may go (default: public addresses only); checked when the connection opens */
  outbound?: OutboundPolicy;
  /** the org's signed webhooks (`budget.threshold_reached`), recorded with the notification */
  events?: AlertEvents;
}

/** The part of the webhooks service alerts use. */
export interface AlertEvents {
  emit(
    orgId: string,
    type: string,
    data: object,
    tx?: DbOrTx,
    opts?: { idempotencyKey?: string },
  ): Promise<void>;
}

/** The webhook event type of a soft-threshold crossing (money budget or token quota; see `metric`). */
export const THRESHOLD_EVENT = 'budget.threshold_reached';

/**
 * Turns soft-threshold crossings into a notification row plus an audit event (one transaction, once
 * per policy, metric, period and limit thanks to a unique index), then POSTs the policy's webhook.
 * Runs off the request path; `stop` waits for the work in flight.
 */
export function createAlertNotifier(deps: AlertNotifierDeps) {
  const { db, audit, log } = deps;
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.webhookTimeoutMs ?? 5_000;
  const pending = new Set<Promise<unknown>>();
  const outbound = deps.outbound ?? createOutboundPolicy();

  const record = async (alert: SoftAlert): Promise<NotificationRow | undefined> => {
    const p = alert.policy;
    return db.transaction(async (tx) => {
      const [row] = await tx
        .insert(limitNotifications)
        .values({
          id: newId('ntf'),
          orgId: p.orgId,
          policyId: p.id,
          scope: p.scope,
          scopeId: p.scopeId,
          model: p.model,
          metric: alert.metric,
          period: alert.period,
          periodStart: new Date(alert.periodStartMs),
          threshold: alert.threshold,
          limit: alert.limit,
          used: alert.used,
          webhookStatus: p.webhookUrl ? 'pending' : 'none',
          createdAt: new Date(now()),
        })
        .onConflictDoNothing()
        .returning();
      if (!row) return undefined;
      await audit.append(tx, systemActor(), {
        orgId: p.orgId,
        action: 'limit.threshold_reached',
        target: { type: 'limit_policy', id: p.id },
        after: toNotificationDto(row),
      });
      await deps.events?.emit(p.orgId, THRESHOLD_EVENT, toNotificationDto(row), tx, {
        idempotencyKey: row.id,
      });
      return row;
    });
  };

  const deliver = async (url: string, row: NotificationRow) => {
    let status: 'sent' | 'failed' = 'failed';
    // one agent per delivery (alerts are rare): its connection passes the outbound policy
    const dispatcher = outboundAgent(outbound, { timeout: timeoutMs });
    try {
      const res = await fetch(url, {
        dispatcher,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'maas-limits',
          'x-maas-event': 'limit.threshold_reached',
        },
        body: JSON.stringify(toNotificationDto({ ...row, webhookStatus: 'sent' })),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      await res.body?.cancel().catch(() => {});
      status = res.ok ? 'sent' : 'failed';
      if (!res.ok) log.warn({ notification_id: row.id, status: res.status }, 'limit webhook refused');
    } catch (err) {
      log.warn({ notification_id: row.id, reason: describeNetworkError(err) }, 'limit webhook failed');
    } finally {
      void dispatcher.close().catch(() => {});
    }
    await db
      .update(limitNotifications)
      .set({ webhookStatus: status })
      .where(eq(limitNotifications.id, row.id));
  };

  const handle = async (alert: SoftAlert) => {
    const row = await record(alert);
    if (row)
      log.info(
        { notification_id: row.id, policy_id: alert.policy.id, metric: alert.metric },
        'limit soft threshold reached',
      );
    if (row && alert.policy.webhookUrl) await deliver(alert.policy.webhookUrl, row);
  };

  return {
    /** Fire and forget; failures are logged. */
    notify(alerts: readonly SoftAlert[]) {
      for (const alert of alerts) {
        const work = handle(alert).catch((err: unknown) =>
          log.error({ err, policy_id: alert.policy.id }, 'could not record a limit notification'),
        );
        pending.add(work);
        void work.finally(() => pending.delete(work));
      }
    },
    /** Resolves when every notification in flight is recorded and delivered. */
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
