import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AppError, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { type BillTotals, billLines, bills } from './bills-schema.ts';
import { usageRollups } from './rollups-schema.ts';

export type BillRow = typeof bills.$inferSelect;
export type BillLineRow = typeof billLines.$inferSelect;

/** `2026-11` → the month's first instant and the next month's, in UTC. */
export function periodRange(period: string): { from: Date; to: Date } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!m)
    throw new AppError('validation_failed', 'period must look like YYYY-MM', undefined, { param: 'period' });
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  return { from: new Date(Date.UTC(year, month, 1)), to: new Date(Date.UTC(year, month + 1, 1)) };
}

export function createBillService({ db, audit }: { db: Db; audit: AuditService }) {
  async function find(orgId: string, id: string) {
    const [bill] = await db
      .select()
      .from(bills)
      .where(and(eq(bills.id, id), eq(bills.orgId, orgId)));
    if (!bill) throw notFound('bill');
    return bill;
  }

  /**
   * Builds (or rebuilds) the draft statement of a month from the daily rollups: one line per
   * project, model and currency. A finalized month is returned as it is.
   */
  async function generate(p: Principal, period: string, ctx: AuditContext): Promise<BillRow> {
    const { from, to } = periodRange(period);
    return db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`bill:${p.orgId}:${period}`}))`);
      const [existing] = await tx
        .select()
        .from(bills)
        .where(and(eq(bills.orgId, p.orgId), eq(bills.period, period)));
      if (existing?.status === 'finalized') return existing;
      const sums = await tx
        .select({
          projectId: usageRollups.projectId,
          modelName: usageRollups.modelName,
          currency: usageRollups.currency,
          requests: sql<string>`sum(${usageRollups.requests})`,
          promptTokens: sql<string>`sum(${usageRollups.promptTokens})`,
          completionTokens: sql<string>`sum(${usageRollups.completionTokens})`,
          cachedTokens: sql<string>`sum(${usageRollups.cachedTokens})`,
          reasoningTokens: sql<string>`sum(${usageRollups.reasoningTokens})`,
          images: sql<string>`sum(${usageRollups.images})`,
          audioMs: sql<string>`sum(${usageRollups.audioMs})`,
          characters: sql<string>`sum(${usageRollups.characters})`,
          costNanos: sql<string>`sum(${usageRollups.costNanos})`,
        })
        .from(usageRollups)
        .where(
          and(
            eq(usageRollups.orgId, p.orgId),
            eq(usageRollups.granularity, 'day'),
            gte(usageRollups.bucketStart, from),
            lt(usageRollups.bucketStart, to),
          ),
        )
        .groupBy(usageRollups.projectId, usageRollups.modelName, usageRollups.currency);
      const totals: Record<string, BillTotals> = {};
      const lines = sums.map((s) => {
        const line = {
          id: newId('bln'),
          billId: '',
          projectId: s.projectId,
          modelName: s.modelName,
          currency: s.currency,
          requests: Number(s.requests),
          promptTokens: Number(s.promptTokens),
          completionTokens: Number(s.completionTokens),
          cachedTokens: Number(s.cachedTokens),
          reasoningTokens: Number(s.reasoningTokens),
          images: Number(s.images),
          audioMs: Number(s.audioMs),
          characters: Number(s.characters),
          costNanos: Number(s.costNanos),
        };
        totals[s.currency] ??= {
          requests: 0,
          prompt_tokens: 0,
          completion_tokens: 0,
          cached_tokens: 0,
          reasoning_tokens: 0,
          images: 0,
          audio_ms: 0,
          characters: 0,
          cost_nanos: 0,
        };
        const t = totals[s.currency]!;
        t.requests += line.requests;
        t.prompt_tokens += line.promptTokens;
        t.completion_tokens += line.completionTokens;
        t.cached_tokens += line.cachedTokens;
        t.reasoning_tokens += line.reasoningTokens;
        t.images = (t.images ?? 0) + line.images;
        t.audio_ms = (t.audio_ms ?? 0) + line.audioMs;
        t.characters = (t.characters ?? 0) + line.characters;
        t.cost_nanos += line.costNanos;
        return line;
      });
      let bill: BillRow;
      if (existing) {
        await tx.delete(billLines).where(eq(billLines.billId, existing.id));
        [bill] = (await tx
          .update(bills)
          .set({ totals, updatedAt: new Date() })
          .where(eq(bills.id, existing.id))
          .returning()) as [BillRow];
      } else {
        [bill] = (await tx
          .insert(bills)
          .values({ id: newId('bil'), orgId: p.orgId, period, totals })
          .returning()) as [BillRow];
      }
      if (lines.length) await tx.insert(billLines).values(lines.map((l) => ({ ...l, billId: bill.id })));
      await audit.append(tx, ctx, {
        orgId: p.orgId,
        action: existing ? 'bill.regenerate' : 'bill.create',
        target: { type: 'bill', id: bill.id },
        after: { period, totals },
      });
      return bill;
    });
  }

  return {
    generate,

    async list(p: Principal, limit: number, cursor?: string) {
      return db
        .select()
        .from(bills)
        .where(and(eq(bills.orgId, p.orgId), cursor ? lt(bills.id, cursor) : undefined))
        .orderBy(desc(bills.id))
        .limit(limit + 1);
    },

    async get(p: Principal, id: string): Promise<{ bill: BillRow; lines: BillLineRow[] }> {
      const bill = await find(p.orgId, id);
      const lines = await db
        .select()
        .from(billLines)
        .where(eq(billLines.billId, id))
        .orderBy(billLines.projectId, billLines.modelName);
      return { bill, lines };
    },

    /** Brings the draft up to date with late usage, then freezes it; a month that has not ended yet cannot be finalized. */
    async finalize(p: Principal, id: string, ctx: AuditContext) {
      const bill = await find(p.orgId, id);
      if (bill.status === 'finalized') throw new AppError('conflict', 'this bill is already finalized');
      if (periodRange(bill.period).to.getTime() > Date.now()) {
        throw new AppError('unprocessable', `the period ${bill.period} has not ended yet`);
      }
      await generate(p, bill.period, ctx);
      return db.transaction(async (tx) => {
        const [after] = await tx
          .update(bills)
          .set({ status: 'finalized', finalizedAt: new Date(), updatedAt: new Date() })
          .where(and(eq(bills.id, id), eq(bills.status, 'draft')))
          .returning();
        if (!after) throw new AppError('conflict', 'this bill is already finalized');
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'bill.finalize',
          target: { type: 'bill', id },
          before: { status: 'draft' },
          after: { status: 'finalized' },
        });
        return after;
      });
    },
  };
}

export type BillService = ReturnType<typeof createBillService>;
