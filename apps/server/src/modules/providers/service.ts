import { randomUUID } from 'node:crypto';
import { HOP_HEADER, type OutboundPolicy, outboundClient, parseAddress } from '@maas/outbound';
import { Client } from '@maas/outbound/undici';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { changeTopic } from '../../events/change-topic.ts';
import { createReplicatedCache } from '../../events/replicated-cache.ts';
import { AppError, conflict, forbidden, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import type { Adapter } from '../gateway/index.ts';
import { type CreateProviderBody, type ProviderRow, toProviderDto, type UpdateProviderBody } from './dto.ts';
import { createHealthBook, type ProbeResult } from './health.ts';
import { probeUpstream } from './probe.ts';
import { connectionOf, createProviderCache, type ProviderRuntime } from './provider-cache.ts';
import { type ProviderEndpoint, type ProviderType, providers } from './schema.ts';

export const PROVIDERS_CHANGED = changeTopic('providers.changed');

const MODEL_ENDPOINTS = {
  chat: 'chat.completions',
  completion: 'completions',
  embedding: 'embeddings',
  rerank: 'rerank',
  image: 'images.generations',
  tts: 'audio.speech',
  stt: 'audio.transcriptions',
} as const;

export interface ProviderServiceDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  secrets: SecretBox;
  log: Logger;
  adapters: Record<ProviderType, Adapter>;
  /** where tenants' providers may connect (checked at create/update and when a connection opens) */
  outbound: OutboundPolicy;
  /** names of models whose versions still target the provider: such a provider is not deleted */
  inUseBy?: (tx: DbOrTx, providerId: string) => Promise<string[]>;
  /** active health probes every this many ms (0: none) */
  probeIntervalMs?: number;
  /** a full reload of the cache every this many ms, in case a push was lost */
  resyncIntervalMs?: number;
}

/** One replica behind a fleet deployment's provider; `apiKeySealed` is sealed with the server's SecretBox. */
export interface DeploymentEndpoint {
  id: string;
  url: string;
  apiKeySealed: string | null;
  group: string;
}

/** Who may change a provider: tenants their own; only the fleet (`managedBy: 'fleet'`) a deployment's. */
export interface ManagedOption {
  managedBy?: 'fleet';
}

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

export function createProviderService(deps: ProviderServiceDeps) {
  const { db, audit, bus, secrets, log, outbound } = deps;
  const instance = randomUUID();
  const cache = createProviderCache({ ...deps, hopId: instance });
  const health = createHealthBook();
  const timers: NodeJS.Timeout[] = [];
  let started = false;
  let probing = false;
  let stopped = false;
  /** told when a provider's runtimes change (the registry compiles its targets from them) */
  const listeners: ((providerId: string) => void)[] = [];
  const notify = (id: string) => {
    for (const fn of listeners) fn(id);
  };

  const find = async (tx: DbOrTx, orgId: string, id: string): Promise<ProviderRow> => {
    const [row] = await tx
      .select()
      .from(providers)
      .where(and(eq(providers.id, id), eq(providers.orgId, orgId)));
    if (!row) throw notFound('provider');
    return row;
  };

  const headerNames = (row: ProviderRow): string[] => {
    if (!row.headersEnc) return [];
    try {
      return Object.keys(JSON.parse(secrets.open(row.headersEnc)) as object);
    } catch {
      return [];
    }
  };
  const dtoOf = (row: ProviderRow) => toProviderDto(row, headerNames(row));

  /** A tenant's base URL must pass the outbound policy (again when each connection opens). */
  const checkBaseUrl = async (url: string) => {
    const refused = await outbound.checkUrl(url);
    if (refused)
      throw new AppError('unprocessable', `base_url ${refused.message}`, undefined, { param: 'base_url' });
  };

  /** A replica's provider is the fleet's: tenants can neither change nor delete it. */
  const checkManager = (row: ProviderRow, opts: ManagedOption) => {
    if ((row.managedBy ?? undefined) !== opts.managedBy)
      throw forbidden(
        row.managedBy
          ? 'this provider belongs to a deployment replica and is managed by the fleet; change the deployment instead'
          : 'this provider is not managed by the fleet',
      );
  };

  const probeRuntime = async (rt: ProviderRuntime) => {
    health.recordProbe(rt.id, await probeUpstream(rt.pool, rt, Math.min(rt.timeoutMs, 10_000)));
  };
  const probe = (id: string) => Promise.all(cache.runtimesOf(id).map(probeRuntime));

  /** The providers' rows, kept by every replica; each change rebuilds that provider's runtimes. */
  const rows = createReplicatedCache<ProviderRow>({
    name: 'provider cache',
    bus,
    topic: PROVIDERS_CHANGED,
    log,
    loadAll: async () => (await db.select().from(providers)).map((row) => [row.id, row] as const),
    loadOne: async (id) => (await db.select().from(providers).where(eq(providers.id, id)))[0] ?? null,
    onEntry(id, row) {
      if (!cache.apply(id, row ?? null)) return;
      notify(id);
      if (!row) health.forget(id);
      else if (started && !stopped) void probe(id);
    },
    resyncIntervalMs: deps.resyncIntervalMs ?? 60_000,
  });
  const changed = (id: string) => rows.changed(id);

  /** After an upgrade: say which stored providers the policy now refuses (IP literals; names at connect). */
  const warnRefused = () => {
    for (const rt of cache.all()) {
      if (rt.managed) continue;
      const url = new URL(rt.origin);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
      const refused = parseAddress(host) ? outbound.refusal(host, port) : null;
      if (refused)
        log.warn(
          { provider: rt.id, org_id: rt.orgId, reason: refused.reason },
          `provider base_url ${refused.message}`,
        );
    }
  };

  const probeAll = async () => {
    if (probing || stopped) return;
    probing = true;
    try {
      await Promise.all([...cache.all()].map(probeRuntime));
    } finally {
      probing = false;
    }
  };

  const seal = (v: string | null | undefined) => (v == null ? null : secrets.seal(v));
  const sealHeaders = (h: Record<string, string> | null | undefined) =>
    h == null || Object.keys(h).length === 0 ? null : secrets.seal(JSON.stringify(h));

  /** The fleet's side: a deployment's provider, in the fleet's transaction, acting as the platform. */
  const internal = {
    /**
     * Points the deployment's provider (`name`, created on first use) at its running replicas.
     * Runs in the caller's transaction: call `changed(id)` once it has committed.
     */
    async setDeploymentEndpoints(
      tx: DbOrTx,
      input: { orgId: string; name: string; endpoints: DeploymentEndpoint[] },
      ctx: AuditContext,
    ): Promise<{ id: string; changed: boolean }> {
      const endpoints: ProviderEndpoint[] = [...input.endpoints]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((e) => ({ id: e.id, url: e.url, api_key_enc: e.apiKeySealed, group: e.group }));
      const first = endpoints[0];
      const [existing] = await tx
        .select()
        .from(providers)
        .where(and(eq(providers.orgId, input.orgId), eq(providers.name, input.name)))
        .for('update');
      if (existing) {
        checkManager(existing, { managedBy: 'fleet' });
        if (JSON.stringify(existing.endpoints ?? []) === JSON.stringify(endpoints))
          return { id: existing.id, changed: false };
        await tx
          .update(providers)
          .set({
            endpoints,
            // base_url and the key mirror the first endpoint (what a provider lists and tests)
            ...(first ? { baseUrl: first.url, apiKeyEnc: first.api_key_enc } : {}),
            updatedAt: new Date(),
          })
          .where(eq(providers.id, existing.id));
        return { id: existing.id, changed: true };
      }
      if (!first) throw new AppError('unprocessable', 'a deployment provider starts with a running replica');
      const [created] = await tx
        .insert(providers)
        .values({
          id: newId('prv'),
          orgId: input.orgId,
          name: input.name,
          type: 'openai-compatible',
          baseUrl: first.url,
          apiKeyEnc: first.api_key_enc,
          timeoutMs: 600_000,
          managedBy: 'fleet',
          endpoints,
        })
        .returning();
      await audit.append(tx, ctx, {
        orgId: input.orgId,
        action: 'provider.create',
        target: { type: 'provider', id: created!.id },
        after: dtoOf(created!),
      });
      return { id: created!.id, changed: true };
    },

    /** Deletes a deployment's provider (the deployment is gone); in the caller's transaction. */
    async removeDeploymentProvider(tx: DbOrTx, orgId: string, name: string, ctx: AuditContext) {
      const [row] = await tx
        .delete(providers)
        .where(and(eq(providers.orgId, orgId), eq(providers.name, name), eq(providers.managedBy, 'fleet')))
        .returning();
      if (!row) return null;
      await audit.append(tx, ctx, {
        orgId,
        action: 'provider.delete',
        target: { type: 'provider', id: row.id },
        before: dtoOf(row),
      });
      return row.id;
    },

    /**
     * Deletes the fleet's providers of the org named `<prefix>…` that no model targets any more
     * (the one-per-replica providers of earlier versions); returns their ids.
     */
    async removeUnusedManaged(tx: DbOrTx, orgId: string, prefix: string, ctx: AuditContext) {
      const rows = await tx
        .select()
        .from(providers)
        .where(and(eq(providers.orgId, orgId), eq(providers.managedBy, 'fleet')));
      const removed: string[] = [];
      for (const row of rows) {
        if (!row.name.startsWith(prefix)) continue;
        if (((await deps.inUseBy?.(tx, row.id)) ?? []).length > 0) continue;
        await tx.delete(providers).where(eq(providers.id, row.id));
        await audit.append(tx, ctx, {
          orgId,
          action: 'provider.delete',
          target: { type: 'provider', id: row.id },
          before: dtoOf(row),
        });
        removed.push(row.id);
      }
      return removed;
    },

    /** After the transaction committed: this replica's cache now, the others on the push. */
    changed: (id: string) => changed(id),
  };

  return {
    cache,
    health,
    find,
    dtoOf,
    internal,

    /** Calls `fn` with a provider's id whenever its runtimes (endpoints, address) change here. */
    onRuntimesChanged(fn: (providerId: string) => void): void {
      listeners.push(fn);
    },

    /** Can a provider of this type serve a model of this type? (asked of its adapter) */
    serves(providerType: string, modelType: keyof typeof MODEL_ENDPOINTS): boolean {
      const adapter = deps.adapters[providerType as ProviderType];
      return Boolean(adapter?.supports(MODEL_ENDPOINTS[modelType]));
    },

    async start() {
      await rows.start();
      started = true;
      warnRefused();
      const every = (ms: number | undefined, fn: () => Promise<void>) => {
        if (!ms) return;
        const t = setInterval(
          () => void fn().catch((err: unknown) => log.warn({ err }, 'provider background task failed')),
          ms,
        );
        t.unref();
        timers.push(t);
      };
      every(deps.probeIntervalMs ?? 30_000, probeAll);
      void probeAll();
    },

    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await rows.close();
      await cache.close();
    },

    async list(p: Principal, limit: number, cursor?: string) {
      return db
        .select()
        .from(providers)
        .where(and(eq(providers.orgId, p.orgId), cursor ? gt(providers.id, cursor) : undefined))
        .orderBy(asc(providers.id))
        .limit(limit + 1);
    },

    async get(p: Principal, id: string) {
      return find(db, p.orgId, id);
    },

    async create(p: Principal, input: CreateProviderBody, ctx: AuditContext, opts: ManagedOption = {}) {
      if (!opts.managedBy) await checkBaseUrl(input.base_url);
      let row: ProviderRow;
      try {
        row = await db.transaction(async (tx) => {
          const [created] = await tx
            .insert(providers)
            .values({
              id: newId('prv'),
              orgId: p.orgId,
              name: input.name,
              type: input.type,
              baseUrl: input.base_url,
              apiKeyEnc: seal(input.api_key),
              headersEnc: sealHeaders(input.headers),
              ...(input.timeout_ms !== undefined ? { timeoutMs: input.timeout_ms } : {}),
              ...(input.max_connections !== undefined ? { maxConnections: input.max_connections } : {}),
              managedBy: opts.managedBy ?? null,
            })
            .returning();
          await audit.append(tx, ctx, {
            orgId: p.orgId,
            action: 'provider.create',
            target: { type: 'provider', id: created!.id },
            after: dtoOf(created!),
          });
          return created!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a provider named "${input.name}" already exists`);
        throw err;
      }
      await changed(row.id);
      return row;
    },

    async update(
      p: Principal,
      id: string,
      input: UpdateProviderBody,
      ctx: AuditContext,
      opts: ManagedOption = {},
    ) {
      checkManager(await find(db, p.orgId, id), opts);
      if (input.base_url !== undefined && !opts.managedBy) await checkBaseUrl(input.base_url);
      let row: ProviderRow;
      try {
        row = await db.transaction(async (tx) => {
          const before = await find(tx, p.orgId, id);
          checkManager(before, opts);
          const [after] = await tx
            .update(providers)
            .set({
              ...(input.name !== undefined ? { name: input.name } : {}),
              ...(input.type !== undefined ? { type: input.type } : {}),
              ...(input.base_url !== undefined ? { baseUrl: input.base_url } : {}),
              ...(input.api_key !== undefined ? { apiKeyEnc: seal(input.api_key) } : {}),
              ...(input.headers !== undefined ? { headersEnc: sealHeaders(input.headers) } : {}),
              ...(input.timeout_ms !== undefined ? { timeoutMs: input.timeout_ms } : {}),
              ...(input.max_connections !== undefined ? { maxConnections: input.max_connections } : {}),
              updatedAt: new Date(),
            })
            .where(eq(providers.id, id))
            .returning();
          await audit.append(tx, ctx, {
            orgId: p.orgId,
            action: 'provider.update',
            target: { type: 'provider', id },
            before: dtoOf(before),
            after: { ...dtoOf(after!), ...(input.api_key !== undefined ? { api_key_changed: true } : {}) },
          });
          return after!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a provider named "${input.name}" already exists`);
        throw err;
      }
      await changed(id);
      return row;
    },

    async remove(p: Principal, id: string, ctx: AuditContext, opts: ManagedOption = {}) {
      checkManager(await find(db, p.orgId, id), opts);
      await db.transaction(async (tx) => {
        const before = await find(tx, p.orgId, id);
        checkManager(before, opts);
        const users = (await deps.inUseBy?.(tx, id)) ?? [];
        if (users.length > 0) {
          throw conflict(
            `provider is used by model${users.length > 1 ? 's' : ''} ${users.slice(0, 10).join(', ')}`,
          );
        }
        await tx.delete(providers).where(eq(providers.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'provider.delete',
          target: { type: 'provider', id },
          before: dtoOf(before),
        });
      });
      await changed(id);
    },

    /**
     * Calls the upstream with the stored settings now and reports ok, latency and any error (its
     * class or status only), through the outbound policy unless the fleet manages the provider.
     */
    async test(p: Principal, id: string): Promise<ProbeResult> {
      const row = await find(db, p.orgId, id);
      const { origin, ...conn } = connectionOf(row, secrets);
      const adapter = deps.adapters[row.type];
      const timeout = Math.min(row.timeoutMs, 10_000);
      const client =
        row.managedBy === 'fleet'
          ? new Client(origin, { connect: { timeout } })
          : outboundClient(outbound, origin, { timeout });
      try {
        const result = await probeUpstream(
          client,
          { adapter, conn, headers: { ...adapter.headers(conn), [HOP_HEADER]: instance } },
          Math.min(row.timeoutMs, 30_000),
        );
        health.recordProbe(id, result);
        return result;
      } finally {
        client.destroy().catch(() => {});
      }
    },
  };
}

export type ProviderService = ReturnType<typeof createProviderService>;
