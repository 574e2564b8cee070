import { HOP_HEADER, type OutboundPolicy, outboundPool } from '@maas/outbound';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Adapter, ProviderConnection } from '../gateway/index.ts';
import type { ProviderRow } from './dto.ts';
import type { ProviderType } from './schema.ts';

/** Everything the gateway needs to call one provider, decrypted once, with its connection pool. */
export interface ProviderRuntime {
  id: string;
  orgId: string;
  name: string;
  type: ProviderType;
  adapter: Adapter;
  conn: ProviderConnection;
  /** request headers of every call (auth, custom headers and maas's hop header included) */
  headers: Record<string, string>;
  origin: string;
  timeoutMs: number;
  maxConnections: number;
  pool: Pool;
  /** updated_at of the row this runtime was built from */
  version: number;
  /** a fleet replica's provider: its connections skip the outbound policy */
  managed: boolean;
}

export interface ProviderCacheDeps {
  secrets: SecretBox;
  adapters: Record<ProviderType, Adapter>;
  log: Logger;
  /** checks every connection a tenant's provider opens */
  outbound: OutboundPolicy;
  /** this process's `x-maas-hop` value */
  hopId: string;
}

/** Decrypts a row's credentials and headers into a connection description. */
export function connectionOf(row: ProviderRow, secrets: SecretBox): ProviderConnection & { origin: string } {
  const url = new URL(row.baseUrl);
  return {
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    apiKey: row.apiKeyEnc ? secrets.open(row.apiKeyEnc) : null,
    headers: row.headersEnc
      ? lowerCaseNames(JSON.parse(secrets.open(row.headersEnc)) as Record<string, string>)
      : {},
  };
}

/** Header names in lower case, so that ours (authorization …) replace the user's instead of doubling them. */
const lowerCaseNames = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

/**
 * The provider's connection pool. A tenant's connections pass the outbound policy when they open
 * (after DNS, so a rebound name is refused too); a fleet replica's (`outbound` null) do not: its
 * address comes from a node, not from a tenant.
 */
export function createPool(
  origin: string,
  maxConnections: number,
  timeoutMs: number,
  outbound: OutboundPolicy | null,
): Pool {
  const options = { connections: maxConnections, pipelining: 1, keepAliveTimeout: 30_000 };
  const timeout = Math.min(timeoutMs, 10_000);
  return outbound
    ? outboundPool(outbound, origin, { ...options, timeout })
    : new Pool(origin, { ...options, connect: { timeout } });
}

/**
 * In-process map of provider runtimes: no SQL on the hot path. Rebuilt per provider when a change
 * is pushed; a pool is kept when its origin and size did not change, and a replaced pool is closed
 * once its in-flight requests finish.
 */
export function createProviderCache({ secrets, adapters, log, outbound, hopId }: ProviderCacheDeps) {
  const runtimes = new Map<string, ProviderRuntime>();

  const build = (row: ProviderRow, previous: ProviderRuntime | undefined): ProviderRuntime | null => {
    let conn: ReturnType<typeof connectionOf>;
    try {
      conn = connectionOf(row, secrets);
    } catch (err) {
      log.error(
        { err, provider: row.id },
        'cannot decrypt provider credentials (was MAAS_SECRET_KEY changed?)',
      );
      return null;
    }
    const adapter = adapters[row.type];
    const managed = row.managedBy === 'fleet';
    const reusePool =
      previous &&
      previous.origin === conn.origin &&
      previous.maxConnections === row.maxConnections &&
      previous.managed === managed;
    const { origin, ...connection } = conn;
    return {
      id: row.id,
      orgId: row.orgId,
      name: row.name,
      type: row.type,
      adapter,
      conn: connection,
      headers: { ...adapter.headers(connection), [HOP_HEADER]: hopId },
      origin,
      timeoutMs: row.timeoutMs,
      maxConnections: row.maxConnections,
      pool: reusePool
        ? previous.pool
        : createPool(origin, row.maxConnections, row.timeoutMs, managed ? null : outbound),
      version: row.updatedAt.getTime(),
      managed,
    };
  };

  const retire = (old: ProviderRuntime | undefined, next: ProviderRuntime | undefined) => {
    if (old && old.pool !== next?.pool) old.pool.close().catch(() => {});
  };

  return {
    get: (id: string): ProviderRuntime | undefined => runtimes.get(id),

    /** applies the current row of one provider (null: it is gone) */
    apply(id: string, row: ProviderRow | null): void {
      const old = runtimes.get(id);
      if (!row) {
        runtimes.delete(id);
        retire(old, undefined);
        return;
      }
      if (old && old.version === row.updatedAt.getTime()) return;
      const next = build(row, old);
      if (next) runtimes.set(id, next);
      else runtimes.delete(id);
      retire(old, next ?? undefined);
    },

    /** applies a full read of every provider */
    replaceAll(rows: ProviderRow[]): void {
      const seen = new Set<string>();
      for (const row of rows) {
        seen.add(row.id);
        this.apply(row.id, row);
      }
      for (const id of [...runtimes.keys()]) if (!seen.has(id)) this.apply(id, null);
    },

    all: (): IterableIterator<ProviderRuntime> => runtimes.values(),

    async close(): Promise<void> {
      const pools = [...runtimes.values()].map((r) => r.pool);
      runtimes.clear();
      await Promise.all(pools.map((p) => p.destroy().catch(() => {})));
    },
  };
}

export type ProviderCache = ReturnType<typeof createProviderCache>;
