import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { idParams } from '../../../http/params.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { type CacheSettingsBook, cacheSettingsBody, cacheSettingsDto } from './settings.ts';

const tags = ['models'];

/** /api/v1/models/{id}/cache: the response cache of one of your models. */
export async function cacheSettingsRoutes(
  app: FastifyInstance,
  { settings }: { settings: CacheSettingsBook },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/models/:id/cache',
    {
      schema: {
        tags,
        summary: 'The response cache settings of a model',
        params: idParams,
        response: { 200: cacheSettingsDto },
      },
    },
    async (req) => settings.get(principalOf(req), req.params.id),
  );
  r.put(
    '/models/:id/cache',
    {
      schema: {
        tags,
        summary:
          'Turn the response cache of a model on or off, its TTL and the share of the price a hit costs; shared_across_orgs (platform admins only) lets orgs share answers',
        params: idParams,
        body: cacheSettingsBody,
        response: { 200: cacheSettingsDto },
      },
    },
    async (req) => settings.put(principalOf(req), req.params.id, req.body, auditContextOf(req)),
  );
}
