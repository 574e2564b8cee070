import type { LimitPeriod, LimitScope } from './schema.ts';

/** One policy as the engine reads it (a row of `limit_policies`, cached in process). */
export interface LimitPolicy {
  id: string;
  orgId: string;
  scope: LimitScope;
  scopeId: string;
  /** null: all models together */
  model: string | null;
  rpm: number | null;
  rpd: number | null;
  tpm: number | null;
  tpd: number | null;
  maxConcurrent: number | null;
  tokenQuota: number | null;
  quotaPeriod: LimitPeriod | null;
  /** money, in the currency of the model prices */
  budget: number | null;
  budgetPeriod: LimitPeriod | null;
  /** fraction of a quota or budget at which an alert is raised, e.g. 0.8 */
  softThreshold: number | null;
  webhookUrl: string | null;
}

/** The policies that apply to one request: its org's, project's and key's, for all models and its model. */
export type ResolvedPolicies = readonly LimitPolicy[];

/** Who is making the request; `model` is the canonical model name (after alias resolution). */
export interface LimitSubject {
  orgId: string;
  projectId: string;
  keyId: string;
  /** the user who created the key; null when a key created it (no user limits apply) */
  userId?: string | null;
  model: string;
}

export function scopeIdOf(subject: LimitSubject, scope: LimitPolicy['scope']): string | null {
  if (scope === 'user') return subject.userId ?? null;
  return scope === 'org' ? subject.orgId : scope === 'project' ? subject.projectId : subject.keyId;
}
