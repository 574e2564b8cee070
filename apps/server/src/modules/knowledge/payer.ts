import type { KeyPrincipal, Principal } from '../../http/principal.ts';
import type { KnowledgeDeps, Scope } from './ports.ts';

/**
 * Who embeddings and reranks of a knowledge base are admitted, limited and metered as. An API key
 * pays for what it does (/v1/vector_stores, or /api/v1 with an admin-scoped key). A person in the
 * console pays as themself: the gateway sees the knowledge base's project and the person (user
 * limits, quotas and budgets apply, with the project's and org's), and usage names the person's
 * id where a key's id would stand. Recorded on each ingestion job, so a job run after a restart is
 * still paid by whoever queued it, as they are then.
 */
export type Payer = { key_id: string } | { user_id: string };

export const payerOf = (p: Principal): Payer =>
  p.kind === 'user' ? { user_id: p.userId } : { key_id: p.keyId };

/** A person calling the gateway from the console, as the gateway sees a caller. */
export function personAsCaller(userId: string, scope: Scope): KeyPrincipal {
  return Object.freeze({
    kind: 'key' as const,
    keyId: userId,
    orgId: scope.orgId,
    projectId: scope.projectId,
    scopes: Object.freeze(['inference']) as KeyPrincipal['scopes'],
    models: null,
    ownerUserId: userId,
  });
}

/** The caller of an admin request, as the gateway sees it: the key itself, or the person. */
export function callerOf(p: Principal, scope: Scope): KeyPrincipal {
  return p.kind === 'user' ? personAsCaller(p.userId, scope) : p;
}

/**
 * The payer as it is now: a revoked or expired key, or a person who left the org, was disabled or
 * no longer holds knowledge:write in the project, pays for nothing more (null).
 */
export async function currentCaller(
  deps: KnowledgeDeps,
  payer: Payer,
  scope: Scope,
): Promise<KeyPrincipal | null> {
  if ('key_id' in payer) {
    const key = deps.currentKey(payer.key_id);
    return key && key.orgId === scope.orgId && key.projectId === scope.projectId ? key : null;
  }
  return (await deps.personMayWrite(scope, payer.user_id)) ? personAsCaller(payer.user_id, scope) : null;
}
