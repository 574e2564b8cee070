import type { FastifyRequest } from 'fastify';
import type { AuditContext } from '../modules/audit/index.ts';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Accepts a caller's `x-request-id` when it is sane, otherwise makes one. */
export function requestIdFrom(header: string | string[] | undefined, make: () => string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : make();
}

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
