import { createOutboundPolicy, type OutboundPolicy } from '@maas/outbound';
import { and, desc, eq, isNull, lt, type SQL } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db, DbOrTx, Tx } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import type { Actor } from '../../http/request-context.ts';
import { newId } from '../../ids.ts';
import type { AuditService } from '../audit/index.ts';
import { type AlertEvents, createAlertNotifier } from './alerts.ts';
import { type LimitPolicyRow, toLimitPolicyDto } from './dto.ts';
import {
  type ActualUsage,
  type AdmitResult,
  createLimitEngine,
  type Demand,
  type Reservation,
} from './engine.ts';
import { createHoldBook } from './holds.ts';
import type { LimitPolicy, LimitSubject } from './policy.ts';
import { createPolicyCache, toPolicy } from './policy-cache.ts';
import { assertEnforcesSomething, columnsOf, definedOf, type LimitFields } from './policy-fields.ts';
import { type LimitScope, limitNotifications, limitPolicies } from './schema.ts';

export interface LimitServiceDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  log: Logger;
  /** shared counters across replicas; absent: in process */
  redis?: Redis | undefined;
  clock?: () => number;
  keyPrefix?: string;
  leaseMs?: number;
  /** Redis only: requests one local share of the counters may cover (0: none; see share-store.ts) */
  shareRequests?: number;
  reconcileIntervalMs?: number;
  webhookTimeoutMs?: number;
  /** where limit webhooks may go (default: public addresses only) */
  outbound?: OutboundPolicy;
  /** soft-threshold crossings are also sent as signed `budget.threshold_reached` webhooks */
  events?: AlertEvents;
  /**
   * What a policy's scope used in a period (tokens, money in the price currency), from metered usage:
   * quota and budget counters start from it instead of zero after a restart or when a policy is set.
   */
  usedIn?: UsedIn;
}

export type UsedIn = (
  policy: LimitPolicy,
  startMs: number,
  endMs: number | null,
) => Promise<{ tokens: number; cost: number }>;

/** Throws a 404 when the project, key or user is not in the org. */
export type RequireScope = (
  tx: DbOrTx,
  orgId: string,
  scope: 'project' | 'key' | 'user',
  id: string,
) => Promise<unknown>;

export type { LimitFields };

export interface CreateLimitInput extends LimitFields {
  scope: LimitScope;
  scopeId?: string | undefined;
  model?: string | null | undefined;
}

export type LimitService = ReturnType<typeof createLimitService>;

const TARGET = 'limit_policy';

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

export function createLimitService(deps: LimitServiceDeps) {
  const { db, audit, bus, log } = deps;
  const outbound = deps.outbound ?? createOutboundPolicy();
  const now = deps.clock ?? Date.now;
  const cache = createPolicyCache({ db, bus, log, reconcileIntervalMs: deps.reconcileIntervalMs ?? 30_000 });
  const holds = createHoldBook();
  const engine = createLimitEngine({
    log,
    redis: deps.redis,
    clock: now,
    ...(deps.keyPrefix ? { keyPrefix: deps.keyPrefix } : {}),
    ...(deps.leaseMs ? { leaseMs: deps.leaseMs } : {}),
    ...(deps.shareRequests !== undefined ? { shareRequests: deps.shareRequests } : {}),
    onAlerts: (alerts) => notifier.notify(alerts),
  });
  const notifier = createAlertNotifier({
    db,
    audit,
    log,
    now,
    webhookTimeoutMs: deps.webhookTimeoutMs ?? 5_000,
    outbound,
    events: deps.events,
  });

  /** A webhook must pass the outbound policy when it is set (and again when it is delivered). */
  const checkWebhook = async (url: string | null | undefined) => {
    const refused = url ? await outbound.checkUrl(url) : null;
    if (refused)
      throw new AppError('unprocessable', `webhook_url ${refused.message}`, undefined, {
        param: 'webhook_url',
      });
  };

  const lockPolicy = async (tx: Tx, orgId: string, id: string): Promise<LimitPolicyRow> => {
    const [row] = await tx
      .select()
      .from(limitPolicies)
      .where(and(eq(limitPolicies.id, id), eq(limitPolicies.orgId, orgId)))
      .for('update');
    if (!row) throw notFound('limit policy');
    return row;
  };

  const get = async (orgId: string, id: string): Promise<LimitPolicyRow> => {
    const [row] = await db
      .select()
      .from(limitPolicies)
      .where(and(eq(limitPolicies.id, id), eq(limitPolicies.orgId, orgId)));
    if (!row) throw notFound('limit policy');
    return row;
  };

  const seed = async (policy: LimitPolicy | undefined) => {
    const usedIn = deps.usedIn;
    if (!usedIn || !policy || (policy.tokenQuota === null && policy.budget === null)) return;
    try {
      await engine.seed(policy, (startMs, endMs) => usedIn(policy, startMs, endMs));
    } catch (err) {
      log.warn({ err, policy_id: policy.id }, 'could not start quota counters from metered usage');
    }
  };

  return {
    async start() {
      await cache.start();
      for (const policy of cache.all()) await seed(policy);
    },
    async stop() {
      await cache.stop();
      await engine.flush();
      await notifier.drain();
    },
    engine,
    /** The policies that apply to a request, from the in-process cache (no SQL). */
    resolvePolicies: (subject: LimitSubject) => cache.resolve(subject),
    reconcile: () => cache.reconcile(),
    /** Resolves when soft-threshold notifications in flight are recorded and their webhooks sent. */
    drainNotifications: () => notifier.drain(),

    /** Quota and budget held for admitted long work (batches); see holds.ts. */
    holds,

    /**
     * Reserves for one request against every policy of its key, project and org, less what long
     * work holds; `holdOf`: the request belongs to that work and draws on its own hold.
     */
    admitRequest(
      subject: LimitSubject,
      demand: Demand,
      holdOf: string | null = null,
    ): AdmitResult | Promise<AdmitResult> {
      const policies = cache.resolve(subject);
      if (holds.size === 0) return engine.admit(subject, demand, policies);
      return engine.admit(subject, demand, policies, (p) => holds.heldFor(p, holdOf));
    },

    /** Charges actual usage and frees the reservation; soft-threshold alerts go out in the background. Never throws. */
    settleRequest(reservation: Reservation, actual: ActualUsage): void | Promise<void> {
      const alerts = engine.settle(reservation, actual);
      if (alerts instanceof Promise) {
        return alerts.then((crossed) => {
          if (crossed.length > 0) notifier.notify(crossed);
        });
      }
      if (alerts.length > 0) notifier.notify(alerts);
    },

    /** The request did not run: frees everything it reserved. Never throws. */
    releaseRequest: (reservation: Reservation) => engine.release(reservation),

    async list(
      orgId: string,
      filter: { scope?: LimitScope | undefined; scopeId?: string | undefined; model?: string | undefined },
      limit: number,
      cursor?: string,
    ) {
      const where: SQL[] = [eq(limitPolicies.orgId, orgId)];
      if (filter.scope) where.push(eq(limitPolicies.scope, filter.scope));
      if (filter.scopeId) where.push(eq(limitPolicies.scopeId, filter.scopeId));
      if (filter.model !== undefined)
        where.push(
          filter.model === '*' ? isNull(limitPolicies.model) : eq(limitPolicies.model, filter.model),
        );
      if (cursor) where.push(lt(limitPolicies.id, cursor));
      return db
        .select()
        .from(limitPolicies)
        .where(and(...where))
        .orderBy(desc(limitPolicies.id))
        .limit(limit + 1);
    },

    get,

    async create(actor: Actor, input: CreateLimitInput, requireScope: RequireScope): Promise<LimitPolicyRow> {
      const orgId = actor.principal.orgId;
      const scopeId = input.scopeId ?? (input.scope === 'org' ? orgId : undefined);
      if (!scopeId)
        throw new AppError('unprocessable', `scope_id is required for scope ${input.scope}`, undefined, {
          param: 'scope_id',
        });
      assertEnforcesSomething(input);
      await checkWebhook(input.webhookUrl);
      // Checked before the transaction: a key lookup uses its own connection (one only on PGlite).
      if (input.scope === 'org') {
        if (scopeId !== orgId) throw notFound('org');
      } else {
        await requireScope(db, orgId, input.scope, scopeId);
      }
      const row = await db
        .transaction(async (tx) => {
          const at = new Date(now());
          const [inserted] = await tx
            .insert(limitPolicies)
            .values({
              id: newId('lim'),
              orgId,
              scope: input.scope,
              scopeId,
              model: input.model ?? null,
              ...columnsOf(input),
              quotaPeriod:
                input.tokenQuota == null ? (input.quotaPeriod ?? null) : (input.quotaPeriod ?? 'month'),
              budgetPeriod:
                input.budget == null ? (input.budgetPeriod ?? null) : (input.budgetPeriod ?? 'month'),
              createdBy: actor.audit.actorId,
              createdAt: at,
              updatedAt: at,
            })
            .returning();
          const created = inserted!;
          await audit.append(tx, actor.audit, {
            orgId,
            action: 'limit.create',
            target: { type: TARGET, id: created.id },
            after: toLimitPolicyDto(created),
          });
          return created;
        })
        .catch((err: unknown) => {
          if (isUniqueViolation(err))
            throw conflict('a limit policy for this scope and model exists already; change that one');
          throw err;
        });
      await cache.changed(row.id, row);
      await seed(cache.get(row.id));
      return row;
    },

    async update(actor: Actor, id: string, input: LimitFields): Promise<LimitPolicyRow> {
      const orgId = actor.principal.orgId;
      await checkWebhook(input.webhookUrl);
      const row = await db.transaction(async (tx) => {
        const before = await lockPolicy(tx, orgId, id);
        if (Object.values(input).every((v) => v === undefined)) return null;
        const next = { ...toPolicy(before), ...definedOf(columnsOf(input)) };
        assertEnforcesSomething(next);
        const [updated] = await tx
          .update(limitPolicies)
          .set({
            ...definedOf(columnsOf(input)),
            ...(input.tokenQuota != null && next.quotaPeriod === null
              ? { quotaPeriod: 'month' as const }
              : {}),
            ...(input.budget != null && next.budgetPeriod === null ? { budgetPeriod: 'month' as const } : {}),
            updatedAt: new Date(now()),
          })
          .where(eq(limitPolicies.id, id))
          .returning();
        await audit.append(tx, actor.audit, {
          orgId,
          action: 'limit.update',
          target: { type: TARGET, id },
          before: toLimitPolicyDto(before),
          after: toLimitPolicyDto(updated!),
        });
        return updated!;
      });
      if (!row) return get(orgId, id);
      await cache.changed(row.id, row);
      await seed(cache.get(row.id));
      return row;
    },

    /** Deletes the policy; its counters are dropped by the store when their windows and periods end. */
    async remove(actor: Actor, id: string): Promise<void> {
      const orgId = actor.principal.orgId;
      await db.transaction(async (tx) => {
        const before = await lockPolicy(tx, orgId, id);
        await tx.delete(limitPolicies).where(eq(limitPolicies.id, id));
        await audit.append(tx, actor.audit, {
          orgId,
          action: 'limit.delete',
          target: { type: TARGET, id },
          before: toLimitPolicyDto(before),
        });
      });
      await cache.changed(id, null);
    },

    /** Current figures of a policy's counters. */
    async usage(orgId: string, id: string) {
      const policy = toPolicy(await get(orgId, id));
      return { ...(await engine.usage(policy)), held: holds.heldFor(policy, null) };
    },

    async listNotifications(
      orgId: string,
      filter: { policyId?: string | undefined },
      limit: number,
      cursor?: string,
    ) {
      const where: SQL[] = [eq(limitNotifications.orgId, orgId)];
      if (filter.policyId) where.push(eq(limitNotifications.policyId, filter.policyId));
      if (cursor) where.push(lt(limitNotifications.id, cursor));
      return db
        .select()
        .from(limitNotifications)
        .where(and(...where))
        .orderBy(desc(limitNotifications.id))
        .limit(limit + 1);
    },
  };
}
