import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../../../http/app-error.ts';
import { listQuery, page, pageOf } from '../../../http/pagination.ts';
import { principalOf } from '../../../http/principal.ts';
import type { Services } from '../../../services.ts';
import { apiKeyDto, toApiKeyDto } from '../../keys/index.ts';

/** The caller's own things, for the profile page. */
export async function profileRoutes(app: FastifyInstance, { services }: { services: Services }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/me/keys',
    {
      schema: {
        tags: ['auth'],
        summary: 'The API keys you created in this org (your personal keys share your user limits)',
        querystring: listQuery,
        response: { 200: pageOf(apiKeyDto) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      if (p.kind !== 'user') throw new AppError('forbidden', 'an API key has no profile');
      const rows = await services.keys.list(
        p.orgId,
        { createdBy: p.userId },
        req.query.limit,
        req.query.cursor,
      );
      const result = page(rows, req.query.limit);
      return { data: result.data.map((k) => toApiKeyDto(k)), next_cursor: result.next_cursor };
    },
  );
}
