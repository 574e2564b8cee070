import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/client.ts';
import type { Metrics } from './metrics.ts';

export interface HealthDeps {
  database: Database;
  metrics: Metrics;
  /** set once migrations have been applied */
  isMigrated: () => boolean;
}

export async function observabilityRoutes(
  app: FastifyInstance,
  { database, metrics, isMigrated }: HealthDeps,
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
  app.get('/metrics', hidden, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
