import type { FastifyRequest } from 'fastify';
import type { AuditContext } from '../modules/audit/index.ts';
import { type Principal, principalOf } from './principal.ts';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Accepts a caller's `x-request-id` when it is sane, otherwise makes one. */
export function requestIdFrom(header: string | string[] | undefined, make: () => string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : make();
}

/** How the audit trail records who made the request (its actor) and from where. */
export function auditContextOf(req: FastifyRequest): AuditContext {
  const p = req.principal;
  return {
    actorType: p ? p.kind : 'anonymous',
    actorId: p ? (p.kind === 'user' ? p.userId : p.keyId) : null,
    ip: req.ip ?? null,
    userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
    requestId: req.id,
  };
}

/** Who is acting, for a service's authorisation rules and its audit trail. */
export interface Actor {
  principal: Principal;
  audit: AuditContext;
}

/** The authenticated caller of an admin route, as services take it. */
export function actorOf(req: FastifyRequest): Actor {
  return { principal: principalOf(req), audit: auditContextOf(req) };
}
