import { and, asc, desc, eq, gt, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { newId } from '../../ids.ts';
import { GENESIS_HASH, type HashedFields, hashEvent, redact } from './canonical-hash.ts';
import { auditEvents } from './schema.ts';

export interface AuditContext {
  actorType: 'user' | 'key' | 'system' | 'anonymous';
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface AuditInput {
  orgId: string | null;
  action: string;
  target?: { type: string; id: string } | undefined;
  before?: unknown;
  after?: unknown;
}

export interface AuditFilters {
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export type AuditEventRow = typeof auditEvents.$inferSelect;

export interface AuditService {
  /** Appends within the caller's transaction, so the event and the change commit together. */
  append(tx: DbOrTx, ctx: AuditContext, input: AuditInput): Promise<AuditEventRow>;
  list(orgId: string, filters: AuditFilters, limit: number, cursor?: string): Promise<AuditEventRow[]>;
  verify(chain: string): Promise<{ ok: boolean; checked: number; first_broken_id: string | null }>;
}

export function createAuditService({ db }: { db: Db }): AuditService {
  return {
    async append(tx, ctx, input) {
      const chain = input.orgId ?? 'platform';
      // Serialises appends per chain across every replica for the rest of this transaction.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`audit:${chain}`}))`);
      const [last] = await tx
        .select({ hash: auditEvents.hash })
        .from(auditEvents)
        .where(eq(auditEvents.chain, chain))
        .orderBy(desc(auditEvents.seq))
        .limit(1);
      const prevHash = last?.hash ?? GENESIS_HASH;
      const createdAt = new Date();
      const fields: HashedFields = {
        id: newId('evt'),
        chain,
        org_id: input.orgId,
        actor_type: ctx.actorType,
        actor_id: ctx.actorId,
        action: input.action,
        target_type: input.target?.type ?? null,
        target_id: input.target?.id ?? null,
        ip: ctx.ip,
        user_agent: ctx.userAgent,
        request_id: ctx.requestId,
        before: redact(input.before),
        after: redact(input.after),
        created_at: createdAt.toISOString(),
      };
      const [row] = await tx
        .insert(auditEvents)
        .values({
          id: fields.id,
          chain,
          orgId: fields.org_id,
          actorType: ctx.actorType,
          actorId: fields.actor_id,
          action: fields.action,
          targetType: fields.target_type,
          targetId: fields.target_id,
          ip: fields.ip,
          userAgent: fields.user_agent,
          requestId: fields.request_id,
          before: fields.before,
          after: fields.after,
          createdAt,
          prevHash,
          hash: hashEvent(prevHash, fields),
        })
        .returning();
      return row!;
    },

    async list(orgId, filters, limit, cursor) {
      const where: SQL[] = [eq(auditEvents.orgId, orgId)];
      if (filters.actor) where.push(eq(auditEvents.actorId, filters.actor));
      if (filters.action) where.push(eq(auditEvents.action, filters.action));
      if (filters.target) where.push(eq(auditEvents.targetId, filters.target));
      if (filters.from) where.push(gte(auditEvents.createdAt, filters.from));
      if (filters.to) where.push(lte(auditEvents.createdAt, filters.to));
      if (cursor) where.push(lt(auditEvents.id, cursor));
      return db
        .select()
        .from(auditEvents)
        .where(and(...where))
        .orderBy(desc(auditEvents.id))
        .limit(limit + 1);
    },

    async verify(chain) {
      let prev = GENESIS_HASH;
      let checked = 0;
      let afterSeq = 0;
      for (;;) {
        const batch = await db
          .select()
          .from(auditEvents)
          .where(and(eq(auditEvents.chain, chain), gt(auditEvents.seq, afterSeq)))
          .orderBy(asc(auditEvents.seq))
          .limit(1000);
        if (batch.length === 0) return { ok: true, checked, first_broken_id: null };
        for (const row of batch) {
          const expected = hashEvent(row.prevHash, toHashedFields(row));
          if (row.prevHash !== prev || row.hash !== expected) {
            return { ok: false, checked, first_broken_id: row.id };
          }
          prev = row.hash;
          checked += 1;
          afterSeq = row.seq;
        }
      }
    },
  };
}

export function toHashedFields(row: AuditEventRow): HashedFields {
  return {
    id: row.id,
    chain: row.chain,
    org_id: row.orgId,
    actor_type: row.actorType,
    actor_id: row.actorId,
    action: row.action,
    target_type: row.targetType,
    target_id: row.targetId,
    ip: row.ip,
    user_agent: row.userAgent,
    request_id: row.requestId,
    before: row.before,
    after: row.after,
    created_at: row.createdAt.toISOString(),
  };
}
