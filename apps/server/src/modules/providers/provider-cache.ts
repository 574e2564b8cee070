import { HOP_HEADER, type OutboundPolicy, outboundPool } from '@maas/outbound';
import { Pool } from '@maas/outbound/undici';
import type { Logger } from 'pino';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Adapter, ProviderConnection } from '../gateway/index.ts';
import type { ProviderRow } from './dto.ts';
import type { ProviderEndpoint, ProviderType } from './schema.ts';

/**
 * Everything the gateway needs to call one provider, decrypted once, with its connection pool. A
 * fleet deployment's provider has one runtime per endpoint (replica), under `<provider id>#<endpoint id>`.
 */
export interface ProviderRuntime {
  /** what the cache holds it under: the provider id, or `<provider id>#<endpoint id>` */
  key: string;
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

/** The cache key of one endpoint's runtime. */
export const endpointKey = (providerId: string, endpointId: string) => `${providerId}#${endpointId}`;

/** Decrypts a row's (or one of its endpoints') credentials and headers into a connection description. */
export function connectionOf(
  row: ProviderRow,
  secrets: SecretBox,
  endpoint: ProviderEndpoint | null = null,
): ProviderConnection & { origin: string } {
  const url = new URL(endpoint ? endpoint.url : row.baseUrl);
  const apiKeyEnc = endpoint ? endpoint.api_key_enc : row.apiKeyEnc;
  return {
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    apiKey: apiKeyEnc ? secrets.open(apiKeyEnc) : null,
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
  /** provider id → the keys of its runtimes (one, or one per endpoint) */
  const keysOf = new Map<string, string[]>();
  /** provider id → its endpoints' ids and groups (fleet deployments only) */
  const endpointsOf = new Map<string, readonly { key: string; group: string }[]>();

  const build = (
    row: ProviderRow,
    endpoint: ProviderEndpoint | null,
    previous: ProviderRuntime | undefined,
  ): ProviderRuntime | null => {
    let conn: ReturnType<typeof connectionOf>;
    try {
      conn = connectionOf(row, secrets, endpoint);
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
      key: endpoint ? endpointKey(row.id, endpoint.id) : row.id,
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

    /** the runtimes of one provider: itself, or each of its endpoints */
    runtimesOf(id: string): ProviderRuntime[] {
      return (keysOf.get(id) ?? []).flatMap((key) => runtimes.get(key) ?? []);
    },

    /** a fleet deployment provider's endpoints (runtime key and group); undefined for any other provider */
    endpointsOf: (id: string): readonly { key: string; group: string }[] | undefined => endpointsOf.get(id),

    /** applies the current row of one provider (null: it is gone); says whether anything changed */
    apply(id: string, row: ProviderRow | null): boolean {
      const oldKeys = keysOf.get(id) ?? [];
      if (row && oldKeys.length > 0 && runtimes.get(oldKeys[0]!)?.version === row.updatedAt.getTime())
        return false;
      const wanted: [string, ProviderEndpoint | null][] = !row
        ? []
        : row.endpoints
          ? row.endpoints.map((ep) => [endpointKey(id, ep.id), ep])
          : [[id, null]];
      const keys: string[] = [];
      for (const [key, endpoint] of wanted) {
        const old = runtimes.get(key);
        const next = build(row!, endpoint, old);
        if (next) {
          runtimes.set(key, next);
          keys.push(key);
        } else runtimes.delete(key);
        retire(old, next ?? undefined);
      }
      for (const key of oldKeys) {
        if (wanted.some(([k]) => k === key)) continue;
        retire(runtimes.get(key), undefined);
        runtimes.delete(key);
      }
      if (keys.length > 0) keysOf.set(id, keys);
      else keysOf.delete(id);
      if (row?.endpoints)
        endpointsOf.set(
          id,
          row.endpoints.map((ep) => ({ key: endpointKey(id, ep.id), group: ep.group })),
        );
      else endpointsOf.delete(id);
      return true;
    },

    all: (): IterableIterator<ProviderRuntime> => runtimes.values(),

    async close(): Promise<void> {
      const pools = [...runtimes.values()].map((r) => r.pool);
      runtimes.clear();
      keysOf.clear();
      endpointsOf.clear();
      await Promise.all(pools.map((p) => p.destroy().catch(() => {})));
    },
  };
}

export type ProviderCache = ReturnType<typeof createProviderCache>;
