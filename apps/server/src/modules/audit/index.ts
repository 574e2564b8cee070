export { asAnonymous, asUser, systemActor } from './actors.ts';
export { auditRoutes, toAuditEventDto } from './routes.ts';
export { type AuditContext, type AuditInput, type AuditService, createAuditService } from './service.ts';
