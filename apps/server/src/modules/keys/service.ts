import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, DbOrTx, Tx } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { AppError, conflict, forbidden, notFound } from '../../http/app-error.ts';
import type { KeyScope, Principal } from '../../http/principal.ts';
import type { Actor } from '../../http/request-context.ts';
import { newId } from '../../ids.ts';
import type { AuditService } from '../audit/index.ts';
import { createKeyCache } from './key-cache.ts';
import { type ApiKeyRow, toApiKeyDto } from './key-dto.ts';
import { createKeySync } from './key-sync.ts';
import { apiKeys } from './schema.ts';
import { issueSecret } from './secret.ts';
import { createKeyVerifier } from './verify-key.ts';

export interface KeyServiceDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  log: Logger;
  now?: () => number;
  /** full reload of the key cache as a safety net for lost pushes (default 30 s) */
  reconcileIntervalMs?: number;
}

/** Throws a 404 when the project is not in the org (identity's `requireProject`). */
export type RequireProject = (tx: DbOrTx, orgId: string, projectId: string) => Promise<unknown>;

export interface CreateKeyInput {
  name: string;
  projectId: string;
  scopes: KeyScope[];
  models?: string[] | null | undefined;
  expiresAt?: Date | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface UpdateKeyInput {
  name?: string | undefined;
  models?: string[] | null | undefined;
  expiresAt?: Date | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export type KeyService = ReturnType<typeof createKeyService>;

const TARGET = 'api_key';

export function createKeyService(deps: KeyServiceDeps) {
  const { db, audit, bus, log } = deps;
  const now = deps.now ?? Date.now;
  const cache = createKeyCache();
  const sync = createKeySync({
    db,
    bus,
    log,
    cache,
    onHashesSeen: (hashes) => {
      for (const h of hashes) verifier.forget(h);
    },
    reconcileIntervalMs: deps.reconcileIntervalMs ?? 30_000,
  });
  const verifier = createKeyVerifier({ cache, findByHash: sync.findByHash, log, now });

  /** Locks the key row of this org for the rest of the transaction; another org's key is a 404. */
  const lockKey = async (tx: Tx, orgId: string, id: string): Promise<ApiKeyRow> => {
    const [row] = await tx
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, orgId)))
      .for('update');
    if (!row) throw notFound('API key');
    return row;
  };

  const dto = (row: ApiKeyRow) => toApiKeyDto(row, now());

  /** A key of this org; another org's key, or an id that is not a key, is a 404. */
  const get = async (orgId: string, id: string): Promise<ApiKeyRow> => {
    const [row] = await db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, orgId)));
    if (!row) throw notFound('API key');
    return row;
  };

  return {
    start: () => sync.start(),
    stop: () => sync.stop(),
    /** Forces a full reload of the key cache now (also runs on a timer). */
    reconcile: () => sync.reconcile(),
    /** The hot path: synchronous from the in-process cache; only a miss may await one lookup. */
    verify: verifier.verify,
    cacheSize: () => cache.size,
    /** A key as it is now (scopes, models), for work that runs long after the request that made it. */
    principalOf: (id: string) => cache.principalOf(id, now()),

    async list(
      orgId: string,
      filter: { projectId?: string | undefined; createdBy?: string | undefined },
      limit: number,
      cursor?: string,
    ) {
      const where: SQL[] = [eq(apiKeys.orgId, orgId)];
      if (filter.projectId) where.push(eq(apiKeys.projectId, filter.projectId));
      if (filter.createdBy) where.push(eq(apiKeys.createdBy, filter.createdBy));
      if (cursor) where.push(lt(apiKeys.id, cursor));
      return db
        .select()
        .from(apiKeys)
        .where(and(...where))
        .orderBy(desc(apiKeys.id))
        .limit(limit + 1);
    },

    get,

    async create(actor: Actor, input: CreateKeyInput, requireProject: RequireProject) {
      const p = actor.principal;
      const scopes = [...new Set(input.scopes)];
      assertScopesWithin(p, scopes);
      const models = input.models === undefined && p.kind === 'key' ? p.models : (input.models ?? null);
      assertModelsWithin(p, models);
      assertFuture(input.expiresAt, now());
      const issued = issueSecret();
      const row = await db.transaction(async (tx) => {
        await requireProject(tx, p.orgId, input.projectId);
        const at = new Date(now());
        const [inserted] = await tx
          .insert(apiKeys)
          .values({
            id: newId('key'),
            orgId: p.orgId,
            projectId: input.projectId,
            name: input.name,
            prefix: issued.prefix,
            hash: issued.hash,
            scopes,
            models,
            metadata: input.metadata ?? {},
            expiresAt: input.expiresAt ?? null,
            createdBy: actor.audit.actorId,
            createdAt: at,
            updatedAt: at,
          })
          .returning();
        const created = inserted!;
        await audit.append(tx, actor.audit, {
          orgId: p.orgId,
          action: 'key.create',
          target: { type: TARGET, id: created.id },
          after: dto(created),
        });
        return created;
      });
      await sync.changed(row);
      return { row, secret: issued.secret };
    },

    async update(actor: Actor, id: string, input: UpdateKeyInput): Promise<ApiKeyRow> {
      const p = actor.principal;
      if (input.models !== undefined) assertModelsWithin(p, input.models);
      if (input.expiresAt) assertFuture(input.expiresAt, now());
      const row = await db.transaction(async (tx) => {
        const before = await lockKey(tx, p.orgId, id);
        if (Object.values(input).every((v) => v === undefined)) return null;
        if (before.revokedAt) throw conflict('this API key is revoked');
        const [updated] = await tx
          .update(apiKeys)
          .set({
            ...(input.name === undefined ? {} : { name: input.name }),
            ...(input.models === undefined ? {} : { models: input.models }),
            ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
            ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
            updatedAt: new Date(now()),
          })
          .where(eq(apiKeys.id, id))
          .returning();
        await audit.append(tx, actor.audit, {
          orgId: p.orgId,
          action: 'key.update',
          target: { type: TARGET, id },
          before: dto(before),
          after: dto(updated!),
        });
        return updated!;
      });
      if (!row) return get(p.orgId, id);
      await sync.changed(row);
      return row;
    },

    /** New secret; the old one keeps working for `graceSeconds` (0: stops now). */
    async rotate(actor: Actor, id: string, graceSeconds: number) {
      const p = actor.principal;
      const issued = issueSecret();
      const row = await db.transaction(async (tx) => {
        const before = await lockKey(tx, p.orgId, id);
        if (before.revokedAt) throw conflict('this API key is revoked');
        // Rotating hands out a working secret: a key may do that only for keys no stronger than itself.
        assertScopesWithin(p, before.scopes as KeyScope[]);
        assertModelsWithin(p, before.models);
        const at = now();
        const [updated] = await tx
          .update(apiKeys)
          .set({
            hash: issued.hash,
            prefix: issued.prefix,
            previousHash: graceSeconds > 0 ? before.hash : null,
            previousExpiresAt: graceSeconds > 0 ? new Date(at + graceSeconds * 1000) : null,
            updatedAt: new Date(at),
          })
          .where(eq(apiKeys.id, id))
          .returning();
        await audit.append(tx, actor.audit, {
          orgId: p.orgId,
          action: 'key.rotate',
          target: { type: TARGET, id },
          before: dto(before),
          after: { ...dto(updated!), grace_period_seconds: graceSeconds },
        });
        return updated!;
      });
      await sync.changed(row);
      return { row, secret: issued.secret };
    },

    /** Revokes for good; revoking a revoked key changes nothing. */
    async revoke(actor: Actor, id: string): Promise<ApiKeyRow> {
      const p = actor.principal;
      const row = await db.transaction(async (tx) => {
        const before = await lockKey(tx, p.orgId, id);
        if (before.revokedAt) return before;
        const at = new Date(now());
        const [updated] = await tx
          .update(apiKeys)
          .set({ revokedAt: at, updatedAt: at })
          .where(eq(apiKeys.id, id))
          .returning();
        await audit.append(tx, actor.audit, {
          orgId: p.orgId,
          action: 'key.revoke',
          target: { type: TARGET, id },
          before: dto(before),
          after: dto(updated!),
        });
        return updated!;
      });
      await sync.changed(row);
      return row;
    },
  };
}

/** An API key may only grant scopes it holds itself (`admin:write` includes `admin:read`). */
function assertScopesWithin(p: Principal, scopes: readonly KeyScope[]): void {
  if (p.kind !== 'key') return;
  const own = new Set<KeyScope>(p.scopes);
  if (own.has('admin:write')) own.add('admin:read');
  const extra = scopes.filter((s) => !own.has(s));
  if (extra.length > 0)
    throw forbidden(`an API key cannot grant scopes it does not hold: ${extra.join(', ')}`);
}

/** An API key limited to some models may only grant those models. */
function assertModelsWithin(p: Principal, models: readonly string[] | null): void {
  if (p.kind !== 'key' || p.models === null) return;
  const own = new Set(p.models);
  if (models === null || models.some((m) => !own.has(m))) {
    throw forbidden('an API key cannot grant models it may not use itself');
  }
}

function assertFuture(expiresAt: Date | null | undefined, nowMs: number): void {
  if (expiresAt && expiresAt.getTime() <= nowMs) {
    throw new AppError('unprocessable', 'expires_at must be in the future', undefined, {
      param: 'expires_at',
    });
  }
}
