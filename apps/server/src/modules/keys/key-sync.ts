import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull, or } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { type Bus, topic } from '../../events/bus.ts';
import { changeMessage } from '../../events/change-topic.ts';
import type { CachedKeyRow, KeyCache } from './key-cache.ts';
import { apiKeys } from './schema.ts';

export const KEYS_CHANGED = topic(
  'keys.changed',
  changeMessage.extend({
    id: z.string().min(1).max(200),
    /** revocation is final: replicas drop the key before re-reading its row */
    revoked: z.boolean().optional(),
  }),
);

const cachedColumns = {
  id: apiKeys.id,
  orgId: apiKeys.orgId,
  projectId: apiKeys.projectId,
  hash: apiKeys.hash,
  previousHash: apiKeys.previousHash,
  previousExpiresAt: apiKeys.previousExpiresAt,
  scopes: apiKeys.scopes,
  models: apiKeys.models,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  createdBy: apiKeys.createdBy,
};

type ChangeMessage = z.infer<typeof KEYS_CHANGED.schema>;

export interface KeySyncDeps {
  db: Db;
  bus: Bus;
  log: Logger;
  cache: KeyCache;
  /** called with the hashes of a key whose row was re-read, so a remembered miss is dropped */
  onHashesSeen(hashes: string[]): void;
  reconcileIntervalMs: number;
}

/**
 * Keeps this replica's key cache in step with the database: a full load at start, a push per change
 * (`keys.changed` on the bus) that re-reads one row, and a periodic full reconcile as a safety net.
 */
export function createKeySync({ db, bus, log, cache, onHashesSeen, reconcileIntervalMs }: KeySyncDeps) {
  const origin = randomUUID();
  const pending = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let reconciling: Promise<void> | undefined;
  let stopped = false;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  };

  const loadAll = async () => {
    const stamp = cache.beginRead();
    const rows = await db
      .select(cachedColumns)
      .from(apiKeys)
      .where(
        and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, new Date()))),
      );
    cache.replaceAll(rows, stamp);
  };

  const reconcile = () => {
    reconciling ??= track(
      loadAll()
        .catch((err: unknown) => log.warn({ err }, 'api key reconcile failed'))
        .finally(() => {
          reconciling = undefined;
        }),
    );
    return reconciling;
  };

  const reloadOne = async (id: string) => {
    const stamp = cache.beginRead();
    const [row] = await db.select(cachedColumns).from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
    cache.apply(id, row ?? null, stamp);
    if (row) onHashesSeen([row.hash, ...(row.previousHash ? [row.previousHash] : [])]);
  };

  const onMessage = (payload: ChangeMessage) => {
    if (stopped || payload.origin === origin) return;
    if (payload.revoked) cache.apply(payload.id, null, cache.beginRead());
    void track(reloadOne(payload.id)).catch((err: unknown) => {
      log.warn({ err, key_id: payload.id }, 'api key reload failed; the next reconcile will catch up');
    });
  };

  return {
    async start() {
      // Subscribe first: a change made while the full load runs is then re-read after it.
      bus.subscribe(KEYS_CHANGED, onMessage);
      await loadAll();
      timer = setInterval(() => void reconcile(), reconcileIntervalMs);
      timer.unref();
      log.debug({ keys: cache.size }, 'api key cache loaded');
    },

    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },

    reconcile,

    /** Applies a committed row here, then tells the other replicas. Never throws. */
    async changed(row: CachedKeyRow) {
      cache.apply(row.id, row, cache.beginRead());
      onHashesSeen([row.hash]);
      const message: ChangeMessage = { id: row.id, origin, ...(row.revokedAt ? { revoked: true } : {}) };
      await bus.publish(KEYS_CHANGED, message).catch((err: unknown) => {
        log.warn(
          { err, key_id: row.id },
          'could not publish api key change; replicas will catch up on reconcile',
        );
      });
    },

    findByHash: async (hash: string): Promise<CachedKeyRow | undefined> => {
      const [row] = await db
        .select(cachedColumns)
        .from(apiKeys)
        .where(or(eq(apiKeys.hash, hash), eq(apiKeys.previousHash, hash)))
        .limit(1);
      return row;
    },
  };
}
