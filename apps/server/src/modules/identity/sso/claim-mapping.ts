import type { Role } from '@maas/contracts';
import type { ClaimRule } from '../sso-schema.ts';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** The value at a dotted path of the claims (`groups`, `realm_access.roles`). */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let at: unknown = claims;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function holds(value: unknown, wanted: string): boolean {
  if (Array.isArray(value)) return value.some((v) => String(v) === wanted);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value) === wanted;
  return false;
}

/**
 * The orgs and roles a provider's rules grant for these claims: the highest role per org among the
 * rules that match. A rule whose value is `*` matches whoever signs in through the provider.
 */
export function grantsFor(rules: readonly ClaimRule[], claims: Record<string, unknown>): Map<string, Role> {
  const grants = new Map<string, Role>();
  for (const rule of rules) {
    if (rule.value !== '*' && !holds(claimAt(claims, rule.claim), rule.value)) continue;
    const had = grants.get(rule.org_id);
    if (!had || RANK[rule.role] > RANK[had]) grants.set(rule.org_id, rule.role);
  }
  return grants;
}
