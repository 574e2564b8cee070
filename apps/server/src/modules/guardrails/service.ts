import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import type { GuardrailBook } from './book.ts';
import {
  type AttachmentRow,
  type CreateGuardrailBody,
  type GuardrailRow,
  toGuardrailDto,
  type UpdateGuardrailBody,
  validateMerged,
} from './dto.ts';
import { guardrailAttachments, guardrails } from './schema.ts';

export interface GuardrailServiceDeps {
  db: Db;
  audit: AuditService;
  book: GuardrailBook;
  /** is this one of the org's own models (by id)? */
  ownsModel(orgId: string, modelId: string): boolean;
  /** is this a live API key of the org (by id)? */
  ownsKey(orgId: string, keyId: string): boolean;
}

/** An org's guardrails: CRUD and attachments to its models and keys, each change audited with it. */
export function createGuardrailService(deps: GuardrailServiceDeps) {
  const { db, audit, book } = deps;

  const find = async (tx: DbOrTx, orgId: string, id: string): Promise<GuardrailRow> => {
    const [row] = await tx
      .select()
      .from(guardrails)
      .where(and(eq(guardrails.id, id), eq(guardrails.orgId, orgId)));
    if (!row) throw notFound('guardrail');
    return row;
  };
  const linksOf = (tx: DbOrTx, ids: string[]): Promise<AttachmentRow[]> =>
    ids.length === 0
      ? Promise.resolve([])
      : tx.select().from(guardrailAttachments).where(inArray(guardrailAttachments.guardrailId, ids));
  const dtoOf = async (tx: DbOrTx, row: GuardrailRow) => toGuardrailDto(row, await linksOf(tx, [row.id]));

  return {
    async list(p: Principal, limit: number, cursor?: string) {
      const rows = await db
        .select()
        .from(guardrails)
        .where(and(eq(guardrails.orgId, p.orgId), cursor ? gt(guardrails.id, cursor) : undefined))
        .orderBy(asc(guardrails.id))
        .limit(limit + 1);
      const links = await linksOf(
        db,
        rows.map((r) => r.id),
      );
      return rows.map((r) => ({ id: r.id, dto: toGuardrailDto(r, links) }));
    },

    async get(p: Principal, id: string) {
      return dtoOf(db, await find(db, p.orgId, id));
    },

    async create(p: Principal, input: CreateGuardrailBody, ctx: AuditContext) {
      const dto = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(guardrails)
          .values({
            id: newId('grd'),
            orgId: p.orgId,
            name: input.name,
            kind: input.kind,
            action: input.action,
            stages: input.stages,
            config: input.config,
            failOpen: input.fail_open,
            enabled: input.enabled,
          })
          .returning();
        const dto = toGuardrailDto(row!, []);
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'guardrail.create',
          target: { type: 'guardrail', id: row!.id },
          after: dto,
        });
        return dto;
      });
      await book.changed();
      return dto;
    },

    async update(p: Principal, id: string, patch: UpdateGuardrailBody, ctx: AuditContext) {
      const dto = await db.transaction(async (tx) => {
        const before = await find(tx, p.orgId, id);
        const merged = validateMerged(before, patch);
        if (!merged.success)
          throw new AppError('validation_failed', merged.error.issues.map((i) => i.message).join('; '), {
            issues: merged.error.issues,
          });
        const v = merged.data;
        const [row] = await tx
          .update(guardrails)
          .set({
            name: v.name,
            action: v.action,
            stages: v.stages,
            config: v.config,
            failOpen: v.fail_open,
            enabled: v.enabled,
            updatedAt: new Date(),
          })
          .where(eq(guardrails.id, id))
          .returning();
        const after = await dtoOf(tx, row!);
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'guardrail.update',
          target: { type: 'guardrail', id },
          before: toGuardrailDto(before, []),
          after,
        });
        return after;
      });
      await book.changed();
      return dto;
    },

    async remove(p: Principal, id: string, ctx: AuditContext) {
      await db.transaction(async (tx) => {
        const before = await dtoOf(tx, await find(tx, p.orgId, id));
        await tx.delete(guardrails).where(eq(guardrails.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'guardrail.delete',
          target: { type: 'guardrail', id },
          before,
        });
      });
      await book.changed();
    },

    async attach(
      p: Principal,
      id: string,
      target: { target_type: 'model' | 'key'; target_id: string },
      ctx: AuditContext,
    ) {
      const owned =
        target.target_type === 'model'
          ? deps.ownsModel(p.orgId, target.target_id)
          : deps.ownsKey(p.orgId, target.target_id);
      if (!owned) throw notFound(target.target_type);
      const dto = await db.transaction(async (tx) => {
        const row = await find(tx, p.orgId, id);
        await tx
          .insert(guardrailAttachments)
          .values({
            guardrailId: id,
            orgId: p.orgId,
            targetType: target.target_type,
            targetId: target.target_id,
          })
          .onConflictDoNothing();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'guardrail.attach',
          target: { type: 'guardrail', id },
          after: target,
        });
        return dtoOf(tx, row);
      });
      await book.changed();
      return dto;
    },

    async detach(p: Principal, id: string, targetId: string, ctx: AuditContext) {
      const dto = await db.transaction(async (tx) => {
        const row = await find(tx, p.orgId, id);
        const gone = await tx
          .delete(guardrailAttachments)
          .where(and(eq(guardrailAttachments.guardrailId, id), eq(guardrailAttachments.targetId, targetId)))
          .returning();
        if (gone.length === 0) throw notFound('attachment');
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'guardrail.detach',
          target: { type: 'guardrail', id },
          before: { target_type: gone[0]!.targetType, target_id: targetId },
        });
        return dtoOf(tx, row);
      });
      await book.changed();
      return dto;
    },
  };
}

export type GuardrailService = ReturnType<typeof createGuardrailService>;
