import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../../db/client.ts';
import { queueStats } from './job-store.ts';

export interface JobMetrics {
  failed: Counter<'queue'>;
  attempts: Counter<'queue' | 'outcome'>;
}

/**
 * Per-queue gauges read from the database at scrape time (so every replica reports the cluster's
 * queues alike), and counters of this process's outcomes.
 */
export function createJobMetrics(registry: Registry, db: Db): JobMetrics {
  let pending: ReturnType<typeof queueStats> | undefined;
  // one query per scrape, shared by the gauges that collect in the same tick
  const stats = () => {
    pending ??= queueStats(db).finally(() => setTimeout(() => (pending = undefined), 0));
    return pending.catch(() => []);
  };
  const gauge = (
    name: string,
    help: string,
    pick: (s: Awaited<ReturnType<typeof queueStats>>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await stats()) this.set({ queue: s.queue }, pick(s));
      },
    });
  gauge('maas_jobs_queued', 'Jobs waiting in the queue (including those scheduled later)', (s) => s.queued);
  gauge(
    'maas_jobs_oldest_queued_age_seconds',
    'Age of the oldest job ready to run',
    (s) => s.oldestReadyAgeSeconds,
  );
  gauge('maas_jobs_running', 'Jobs holding a lease, across all replicas', (s) => s.running);
  const failed = new Counter({
    name: 'maas_jobs_failed_total',
    help: 'Jobs that failed for good in this process',
    labelNames: ['queue'] as const,
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'maas_jobs_attempts_total',
    help: 'Attempts finished in this process, by outcome (succeeded, retried, failed, cancelled, released)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  return { failed, attempts };
}
