import type { AuditContext } from './service.ts';

/**
 * The server acting on its own (bootstrap, limit alerts, webhook delivery, the fleet, fine-tuning):
 * audited as `system`, with the component that acted as the user agent.
 */
export function systemActor(component: string | null = null, ip: string | null = null): AuditContext {
  return { actorType: 'system', actorId: null, ip, userAgent: component, requestId: null };
}

/** The request's context once it is known who acts: a sign-in or an acceptance names its user. */
export function asUser(ctx: AuditContext, userId: string): AuditContext {
  return { ...ctx, actorType: 'user', actorId: userId };
}

/** The request's context for a caller who has not signed in (a failed login, a self-registration). */
export function asAnonymous(ctx: AuditContext): AuditContext {
  return { ...ctx, actorType: 'anonymous', actorId: null };
}
