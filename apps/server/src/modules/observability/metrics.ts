import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type HistogramChild, HotHistogram } from './hot-metrics.ts';

export interface Metrics {
  registry: Registry;
  /** by method, route and status (a hot-path histogram: see hot-metrics.ts) */
  httpDuration: HotHistogram;
}

/** One registry per app instance (several apps may live in one test process). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'maas_' });
  const httpDuration = new HotHistogram({
    name: 'maas_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return { registry, httpDuration };
}

export function recordHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  // a child per method, route and status, found by one string key (routes and statuses are few)
  const children = new Map<string, HistogramChild>();
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const key = `${req.method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) {
      child = metrics.httpDuration.labels(req.method, route, String(status));
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
}
