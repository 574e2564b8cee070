import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../../../http/app-error.ts';
import { listQuery, page, pageOf } from '../../../http/pagination.ts';
import { principalOf } from '../../../http/principal.ts';
import { apiKeyDto, type KeyService, toApiKeyDto } from '../../keys/index.ts';

export interface ProfileRouteDeps {
  keys: Pick<KeyService, 'list'>;
}

/** The caller's own things, for the profile page. */
export async function profileRoutes(app: FastifyInstance, { keys }: ProfileRouteDeps) {
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
      const rows = await keys.list(p.orgId, { createdBy: p.userId }, req.query.limit, req.query.cursor);
      const result = page(rows, req.query.limit);
      return { data: result.data.map((k) => toApiKeyDto(k)), next_cursor: result.next_cursor };
    },
  );
}
