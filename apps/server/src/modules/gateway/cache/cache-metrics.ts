import { Counter, Gauge, type Registry } from 'prom-client';

export interface CacheMetrics {
  hit(model: string): void;
  miss(model: string): void;
  stored(model: string, bytes: number): void;
}

/**
 * `maas_response_cache_hits_total`, `maas_response_cache_misses_total` and
 * `maas_response_cache_stored_bytes_total` by model; `maas_response_cache_bytes` held in process.
 */
export function createCacheMetrics(registry: Registry, heldBytes: () => number | null): CacheMetrics {
  const registers = [registry];
  const labelNames = ['model'] as const;
  const hits = new Counter({
    name: 'maas_response_cache_hits_total',
    help: 'Answers served from the response cache',
    labelNames,
    registers,
  });
  const misses = new Counter({
    name: 'maas_response_cache_misses_total',
    help: 'Cacheable requests not found in the response cache',
    labelNames,
    registers,
  });
  const stored = new Counter({
    name: 'maas_response_cache_stored_bytes_total',
    help: 'Bytes written to the response cache',
    labelNames,
    registers,
  });
  new Gauge({
    name: 'maas_response_cache_bytes',
    help: 'Bytes the in-process response cache holds (0 with Redis)',
    registers,
    collect() {
      this.set(heldBytes() ?? 0);
    },
  });
  return {
    hit: (model) => hits.inc({ model }),
    miss: (model) => misses.inc({ model }),
    stored: (model, bytes) => stored.inc({ model }, bytes),
  };
}
