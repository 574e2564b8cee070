import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { page, pageOf } from '../../http/pagination.ts';
import { principalOf } from '../../http/principal.ts';
import { type AuditEventRow, type AuditService, toHashedFields } from './service.ts';

const auditEvent = z.object({
  id: z.string(),
  org_id: z.string().nullable(),
  actor_type: z.string(),
  actor_id: z.string().nullable(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  created_at: z.string(),
  prev_hash: z.string(),
  hash: z.string(),
});

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(200).optional(),
  target: z.string().max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

/** The event as it was hashed, plus its links in the chain. */
export function toAuditEventDto(row: AuditEventRow): z.infer<typeof auditEvent> {
  const { chain: _chain, ...fields } = toHashedFields(row);
  return { ...fields, prev_hash: row.prevHash, hash: row.hash };
}

export interface AuditRouteDeps {
  audit: Pick<AuditService, 'list' | 'verify'>;
}

export async function auditRoutes(app: FastifyInstance, { audit }: AuditRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/audit-events',
    {
      schema: {
        tags: ['audit'],
        summary: 'List audit events of your org, newest first',
        querystring: listQuery,
        response: { 200: pageOf(auditEvent) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const q = req.query;
      const rows = await audit.list(
        p.orgId,
        {
          actor: q.actor,
          action: q.action,
          target: q.target,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        },
        q.limit,
        q.cursor,
      );
      const result = page(rows, q.limit);
      return { data: result.data.map(toAuditEventDto), next_cursor: result.next_cursor };
    },
  );
  r.get(
    '/audit-events/verify',
    {
      schema: {
        tags: ['audit'],
        summary: "Recompute your org's hash chain and report the first broken event",
        response: {
          200: z.object({ ok: z.boolean(), checked: z.number(), first_broken_id: z.string().nullable() }),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return audit.verify(p.orgId);
    },
  );
}
