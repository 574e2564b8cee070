import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { changeTopic } from '../../events/change-topic.ts';
import { createReplicatedCache } from '../../events/replicated-cache.ts';
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
 * Every policy of every org, in process: `resolve` is four map lookups and no SQL. Kept in step with
 * the database and the other replicas by a replicated cache: one row re-read per `limits.changed`.
 */
export function createPolicyCache(deps: { db: Db; bus: Bus; log: Logger; reconcileIntervalMs: number }) {
  const { db } = deps;
  const byScope = new Map<string, LimitPolicy[]>();
  const scopeKey = (scope: string, scopeId: string) => `${scope}:${scopeId}`;

  const unindex = (old: LimitPolicy) => {
    const k = scopeKey(old.scope, old.scopeId);
    const list = (byScope.get(k) ?? []).filter((p) => p.id !== old.id);
    if (list.length > 0) byScope.set(k, list);
    else byScope.delete(k);
  };
  const index = (policy: LimitPolicy) => {
    const k = scopeKey(policy.scope, policy.scopeId);
    byScope.set(k, [...(byScope.get(k) ?? []), policy]);
  };

  const cache = createReplicatedCache<LimitPolicy>({
    name: 'limit policies',
    bus: deps.bus,
    topic: LIMITS_CHANGED,
    log: deps.log,
    loadAll: async () =>
      (await db.select().from(limitPolicies)).map((row) => [row.id, toPolicy(row)] as const),
    async loadOne(id) {
      const [row] = await db.select().from(limitPolicies).where(eq(limitPolicies.id, id)).limit(1);
      return row ? toPolicy(row) : null;
    },
    onEntry(_id, policy, previous) {
      if (previous) unindex(previous);
      if (policy) index(policy);
    },
    resyncIntervalMs: deps.reconcileIntervalMs,
  });

  return {
    start: () => cache.start(),
    stop: () => cache.close(),
    reconcile: () => cache.resync(),

    /** Applies a committed change (row, or null when deleted) here at once, then tells the other replicas. */
    changed: (id: string, row: PolicyRow | null) => cache.changed(id, row ? toPolicy(row) : null),

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

    get: (id: string) => cache.get(id),
    all: () => [...cache.entries.values()],
    get size() {
      return cache.entries.size;
    },
  };
}
