import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';
import { idParams } from '../../../http/params.ts';
import { type Principal, principalOf, type UserPrincipal } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { sessionDto } from '../dto.ts';
import type { IdentityService } from '../service.ts';

function userOf(p: Principal): UserPrincipal {
  if (p.kind !== 'user') throw new AppError('forbidden', 'API keys have no sessions');
  return p;
}

export interface SessionRouteDeps {
  identity: Pick<IdentityService, 'sessions'>;
}

export async function sessionRoutes(app: FastifyInstance, { identity }: SessionRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { sessions } = identity;
  const tags = ['auth'];

  r.get(
    '/auth/sessions',
    {
      schema: {
        tags,
        summary: 'Your signed-in sessions, most recently used first',
        response: { 200: z.object({ data: z.array(sessionDto) }) },
      },
    },
    async (req) => ({
      data: (await sessions.list(userOf(principalOf(req)))).map((s) => ({
        id: s.id,
        org_id: s.orgId,
        created_at: s.createdAt.toISOString(),
        last_used_at: s.lastUsedAt.toISOString(),
        expires_at: s.expiresAt.toISOString(),
        ip: s.ip,
        user_agent: s.userAgent,
        current: s.current,
      })),
    }),
  );

  r.delete(
    '/auth/sessions/:id',
    {
      schema: {
        tags,
        summary: 'End one of your sessions: its refresh token stops working at once',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await sessions.revoke(userOf(principalOf(req)), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );
}
