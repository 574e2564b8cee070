import { and, eq, gt, isNull, or } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { type Bus, topic } from '../../events/bus.ts';
import { changeMessage } from '../../events/change-topic.ts';
import { createReplicatedCache, type ReplicatedCache } from '../../events/replicated-cache.ts';
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

/** The cache holds active keys only: a revoked row takes its key out. */
const activeOnly = (row: CachedKeyRow | undefined): CachedKeyRow | null =>
  row && !row.revokedAt ? row : null;

/**
 * Keeps this replica's key cache in step with the database: a replicated cache of the active keys
 * (full read at start, one row re-read per `keys.changed`, a periodic full reconcile), whose entries
 * feed the by-hash index.
 */
export function createKeySync({ db, bus, log, cache, onHashesSeen, reconcileIntervalMs }: KeySyncDeps) {
  const keys: ReplicatedCache<CachedKeyRow> = createReplicatedCache<CachedKeyRow, ChangeMessage>({
    name: 'api keys',
    bus,
    topic: KEYS_CHANGED,
    log,
    loadAll: async () =>
      (
        await db
          .select(cachedColumns)
          .from(apiKeys)
          .where(
            and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, new Date()))),
          )
      ).map((row) => [row.id, row] as const),
    async loadOne(id) {
      const [row] = await db.select(cachedColumns).from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
      if (row) onHashesSeen([row.hash, ...(row.previousHash ? [row.previousHash] : [])]);
      return activeOnly(row);
    },
    onEntry: (id, row) => (row ? cache.set(row) : cache.remove(id)),
    // revocation is final: the key goes before its row is read again
    onMessage: (message) => {
      if (message.revoked) keys.put(message.id, null);
    },
    messageOf: (_id, row) => (row === null ? { revoked: true } : {}),
    resyncIntervalMs: reconcileIntervalMs,
  });

  return {
    async start() {
      await keys.start();
      log.debug({ keys: cache.size }, 'api key cache loaded');
    },

    stop: () => keys.close(),

    reconcile: () => keys.resync(),

    /** Applies a committed row here, then tells the other replicas. Never throws. */
    async changed(row: CachedKeyRow) {
      onHashesSeen([row.hash]);
      await keys.changed(row.id, activeOnly(row));
    },

    /** Reads a key the cache does not know (by its current or previous hash) and caches it. */
    async findByHash(hash: string): Promise<CachedKeyRow | undefined> {
      const stamp = keys.beginRead();
      const [row] = await db
        .select(cachedColumns)
        .from(apiKeys)
        .where(or(eq(apiKeys.hash, hash), eq(apiKeys.previousHash, hash)))
        .limit(1);
      if (row) keys.apply(row.id, activeOnly(row), stamp);
      return row;
    },
  };
}
