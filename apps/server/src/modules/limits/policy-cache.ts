import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { type ChangeMessage, changeTopic } from '../../events/change-topic.ts';
import { type LimitPolicy, type LimitSubject, type ResolvedPolicies, scopeIdOf } from './policy.ts';
import { limitPolicies } from './schema.ts';

export const LIMITS_CHANGED = changeTopic('limits.changed');

type PolicyRow = typeof limitPolicies.$inferSelect;

export function toPolicy(row: PolicyRow): LimitPolicy {
  return Object.freeze({
    id: row.id,
    orgId: row.orgId,
    scope: row.scope,
    scopeId: row.scopeId,
    model: row.model,
    rpm: row.rpm,
    rpd: row.rpd,
    tpm: row.tpm,
    tpd: row.tpd,
    maxConcurrent: row.maxConcurrent,
    tokenQuota: row.tokenQuota,
    quotaPeriod: row.quotaPeriod,
    budget: row.budget === null ? null : Number(row.budget),
    budgetPeriod: row.budgetPeriod,
    softThreshold: row.softThreshold,
    webhookUrl: row.webhookUrl,
  });
}

const SCOPES = ['org', 'project', 'key', 'user'] as const;
const EMPTY: readonly LimitPolicy[] = Object.freeze([]);

/**
 * Every policy of every org, in process: `resolve` is four map lookups and no SQL. A full load at
 * start, one row re-read per `limits.changed` message (pushed by whichever replica made the change),
 * and a periodic full reload as a safety net for lost messages. Reads carry a stamp so an older read
 * never overwrites a newer one.
 */
export function createPolicyCache(deps: { db: Db; bus: Bus; log: Logger; reconcileIntervalMs: number }) {
  const { db, bus, log } = deps;
  const origin = randomUUID();
  const byId = new Map<string, LimitPolicy>();
  const byScope = new Map<string, LimitPolicy[]>();
  const stamps = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  let floor = 0;
  let counter = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const scopeKey = (scope: string, scopeId: string) => `${scope}:${scopeId}`;
  const unindex = (id: string) => {
    const old = byId.get(id);
    if (!old) return;
    byId.delete(id);
    const k = scopeKey(old.scope, old.scopeId);
    const list = (byScope.get(k) ?? []).filter((p) => p.id !== id);
    if (list.length > 0) byScope.set(k, list);
    else byScope.delete(k);
  };
  const put = (policy: LimitPolicy) => {
    unindex(policy.id);
    byId.set(policy.id, policy);
    const k = scopeKey(policy.scope, policy.scopeId);
    byScope.set(k, [...(byScope.get(k) ?? []), policy]);
  };
  const isStale = (id: string, stamp: number) => (stamps.get(id) ?? floor) > stamp;
  const apply = (id: string, row: PolicyRow | null, stamp: number) => {
    if (isStale(id, stamp)) return;
    stamps.set(id, stamp);
    if (row) put(toPolicy(row));
    else unindex(id);
  };

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  };

  const loadAll = async () => {
    const stamp = ++counter;
    const rows = await db.select().from(limitPolicies);
    if (stamp < floor) return;
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      if (!isStale(row.id, stamp)) put(toPolicy(row));
    }
    for (const id of [...byId.keys()]) if (!seen.has(id) && !isStale(id, stamp)) unindex(id);
    floor = stamp;
    for (const [id, s] of stamps) if (s <= floor) stamps.delete(id);
  };

  const reloadOne = async (id: string) => {
    const stamp = ++counter;
    const [row] = await db.select().from(limitPolicies).where(eq(limitPolicies.id, id)).limit(1);
    apply(id, row ?? null, stamp);
  };

  const onMessage = (msg: ChangeMessage) => {
    if (stopped || msg.id === undefined || msg.origin === origin) return;
    void track(reloadOne(msg.id)).catch((err: unknown) =>
      log.warn({ err, policy_id: msg.id }, 'limit policy reload failed; the next reconcile will catch up'),
    );
  };

  return {
    async start() {
      await loadAll();
      bus.subscribe(LIMITS_CHANGED, onMessage);
      timer = setInterval(() => {
        void track(loadAll()).catch((err: unknown) => log.warn({ err }, 'limit policy reconcile failed'));
      }, deps.reconcileIntervalMs);
      timer.unref();
    },

    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },

    reconcile: () => track(loadAll()),

    /** Applies a committed change (row, or null when deleted) here at once, then tells the other replicas. */
    async changed(id: string, row: PolicyRow | null) {
      apply(id, row, ++counter);
      await bus.publish(LIMITS_CHANGED, { id, origin }).catch((err: unknown) => {
        log.warn({ err, policy_id: id }, 'could not publish limit change; replicas catch up on reconcile');
      });
    },

    /** The policies for one request: its org's, project's, key's and key owner's, for all models and its model. */
    resolve(subject: LimitSubject): ResolvedPolicies {
      const out: LimitPolicy[] = [];
      for (const scope of SCOPES) {
        const scopeId = scopeIdOf(subject, scope);
        if (scopeId === null) continue;
        for (const p of byScope.get(scopeKey(scope, scopeId)) ?? EMPTY) {
          if (p.orgId === subject.orgId && (p.model === null || p.model === subject.model)) out.push(p);
        }
      }
      return out.length > 0 ? out : EMPTY;
    },

    get: (id: string) => byId.get(id),
    all: () => [...byId.values()],
    get size() {
      return byId.size;
    },
  };
}
