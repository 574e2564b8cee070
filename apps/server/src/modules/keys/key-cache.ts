import type { KeyPrincipal } from '../../http/principal.ts';
import type { apiKeys } from './schema.ts';

/** The columns the cache needs; every read that feeds the cache selects at least these. */
export type CachedKeyRow = Pick<
  typeof apiKeys.$inferSelect,
  | 'id'
  | 'orgId'
  | 'projectId'
  | 'hash'
  | 'previousHash'
  | 'previousExpiresAt'
  | 'scopes'
  | 'models'
  | 'expiresAt'
  | 'revokedAt'
> &
  Partial<Pick<typeof apiKeys.$inferSelect, 'createdBy'>>;

interface Entry {
  id: string;
  hash: string;
  previousHash: string | null;
  previousUntilMs: number;
  expiresAtMs: number;
  principal: KeyPrincipal;
}

/** What a lookup found: a principal, a known key that is refused now, or nothing (a miss). */
export type CacheLookup =
  | { status: 'hit'; principal: KeyPrincipal }
  | { status: 'refused' }
  | { status: 'miss' };

export interface KeyCache {
  /**
   * Every read from the database that will feed the cache takes a stamp before it runs; a row is
   * applied only when no read that started later has already been applied for that key, so a slow
   * read can never resurrect a key that a later read saw revoked.
   */
  beginRead(): number;
  /** Applies one key's current row (or `null`: the key no longer exists). */
  apply(id: string, row: CachedKeyRow | null, stamp: number): void;
  /** Replaces the whole cache with a full read of the active keys, minding newer per-key reads. */
  replaceAll(rows: CachedKeyRow[], stamp: number): void;
  lookup(hash: string, nowMs: number): CacheLookup;
  /** The key's principal as it is now, or null when it is revoked, expired or gone. */
  principalOf(id: string, nowMs: number): KeyPrincipal | null;
  readonly size: number;
}

export function createKeyCache(): KeyCache {
  const byHash = new Map<string, Entry>();
  const byId = new Map<string, Entry>();
  /** stamp of the read whose data is in the cache for a key, when newer than the last full reload */
  const stamps = new Map<string, number>();
  /** stamp of the last full reload: it speaks for every key not in `stamps` */
  let floor = 0;
  let counter = 0;

  const remove = (id: string) => {
    const old = byId.get(id);
    if (!old) return;
    byId.delete(id);
    if (byHash.get(old.hash) === old) byHash.delete(old.hash);
    if (old.previousHash && byHash.get(old.previousHash) === old) byHash.delete(old.previousHash);
  };

  const put = (row: CachedKeyRow) => {
    remove(row.id);
    if (row.revokedAt) return;
    const entry: Entry = {
      id: row.id,
      hash: row.hash,
      previousHash: row.previousHash,
      previousUntilMs: row.previousExpiresAt?.getTime() ?? 0,
      expiresAtMs: row.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY,
      principal: toPrincipal(row),
    };
    byId.set(row.id, entry);
    byHash.set(entry.hash, entry);
    if (entry.previousHash) byHash.set(entry.previousHash, entry);
  };

  const isStale = (id: string, stamp: number) => (stamps.get(id) ?? floor) > stamp;

  return {
    beginRead: () => ++counter,

    apply(id, row, stamp) {
      if (isStale(id, stamp)) return;
      stamps.set(id, stamp);
      if (row) put(row);
      else remove(id);
    },

    replaceAll(rows, stamp) {
      const seen = new Set<string>();
      if (stamp < floor) return;
      for (const row of rows) {
        seen.add(row.id);
        if (!isStale(row.id, stamp)) put(row);
      }
      for (const id of [...byId.keys()]) {
        if (!seen.has(id) && !isStale(id, stamp)) remove(id);
      }
      // From now on this reload speaks for every key that no newer read has touched.
      floor = stamp;
      for (const [id, s] of stamps) if (s <= floor) stamps.delete(id);
    },

    lookup(hash, nowMs) {
      const entry = byHash.get(hash);
      if (!entry) return { status: 'miss' };
      if (nowMs >= entry.expiresAtMs) return { status: 'refused' };
      if (hash !== entry.hash && nowMs >= entry.previousUntilMs) return { status: 'refused' };
      return { status: 'hit', principal: entry.principal };
    },

    principalOf(id, nowMs) {
      const entry = byId.get(id);
      return entry && nowMs < entry.expiresAtMs ? entry.principal : null;
    },

    get size() {
      return byId.size;
    },
  };
}

function toPrincipal(row: CachedKeyRow): KeyPrincipal {
  return Object.freeze({
    kind: 'key' as const,
    keyId: row.id,
    orgId: row.orgId,
    projectId: row.projectId,
    scopes: Object.freeze([...row.scopes]) as KeyPrincipal['scopes'],
    models: row.models ? (Object.freeze([...row.models]) as string[]) : null,
    ownerUserId: row.createdBy?.startsWith('usr_') ? row.createdBy : null,
  });
}
