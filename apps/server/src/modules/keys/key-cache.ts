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

/** The active keys by hash and by id; kept in step with the database by key-sync.ts. */
export interface KeyCache {
  /** Puts one key's current row in (a revoked one is taken out). */
  set(row: CachedKeyRow): void;
  remove(id: string): void;
  lookup(hash: string, nowMs: number): CacheLookup;
  /** The key's principal as it is now, or null when it is revoked, expired or gone. */
  principalOf(id: string, nowMs: number): KeyPrincipal | null;
  readonly size: number;
}

export function createKeyCache(): KeyCache {
  const byHash = new Map<string, Entry>();
  const byId = new Map<string, Entry>();

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

  return {
    set: put,
    remove,

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
