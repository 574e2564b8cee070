import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';

/** Where cached answers live: this process (LRU within a byte budget) or Redis (every replica). */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** null on a miss, and when the store cannot answer (a cache never fails a request) */
  get(key: string): Buffer | null | Promise<Buffer | null>;
  set(key: string, value: Buffer, ttlMs: number): void;
  /** bytes held (memory only; null for Redis) */
  bytes(): number | null;
}

export function createMemoryStore(maxBytes: number): CacheStore {
  const lru = new LRUCache<string, Buffer>({
    maxSize: maxBytes,
    // an entry larger than an eighth of the budget is not kept
    maxEntrySize: Math.max(1, Math.floor(maxBytes / 8)),
    sizeCalculation: (value, key) => value.length + key.length,
  });
  return {
    kind: 'memory',
    get: (key) => lru.get(key) ?? null,
    set(key, value, ttlMs) {
      lru.set(key, value, { ttl: ttlMs });
    },
    bytes: () => lru.calculatedSize,
  };
}

export function createRedisStore(redis: Redis, log: Logger): CacheStore {
  let warned = 0;
  const warn = (err: unknown) => {
    if (Date.now() - warned < 60_000) return;
    warned = Date.now();
    log.warn({ err: (err as Error).message }, 'response cache: redis failed (answering without the cache)');
  };
  return {
    kind: 'redis',
    async get(key) {
      try {
        return await redis.getBuffer(key);
      } catch (err) {
        warn(err);
        return null;
      }
    },
    set(key, value, ttlMs) {
      redis.set(key, value, 'PX', ttlMs).catch(warn);
    },
    bytes: () => null,
  };
}
