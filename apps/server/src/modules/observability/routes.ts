import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import type { Metrics } from './metrics.ts';
import { checkScrape, type MetricsAccess } from './metrics-access.ts';

export interface HealthDeps {
  database: Database;
  metrics: Metrics;
  /** set once migrations have been applied */
  isMigrated: () => boolean;
  metricsAccess: MetricsAccess;
}

export async function observabilityRoutes(
  app: FastifyInstance,
  { database, metrics, isMigrated, metricsAccess }: HealthDeps,
) {
  const hidden = { schema: { hide: true }, config: { public: true } };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  app.get('/readyz', hidden, async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await database.ping();
      checks.database = 'ok';
    } catch (err) {
      checks.database = `unreachable: ${(err as Error).message}`;
    }
    checks.migrations = isMigrated() ? 'ok' : 'pending';
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', hidden, async (req, reply) => {
    const verdict = metricsAccess.separate ? 'off' : checkScrape(metricsAccess, req.headers.authorization);
    if (verdict === 'off') {
      throw new AppError(
        'not_found',
        metricsAccess.separate
          ? '/metrics is served on the metrics listener (MAAS_METRICS_PORT)'
          : '/metrics is off: set MAAS_METRICS_TOKEN (bearer token) or MAAS_METRICS_PORT (a listener of its own)',
      );
    }
    if (verdict === 'unauthenticated') {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('unauthenticated', 'send Authorization: Bearer <MAAS_METRICS_TOKEN>');
    }
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
