import { and, asc, eq, or, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { orgs } from '../identity/schema.ts';
import { modelShares, models } from './schema.ts';
import { type OfferShareBody, type ShareWithNames, toShareDto } from './share-dto.ts';
import { findModel, lockOrg } from './store.ts';

interface ShareDeps {
  db: Db;
  audit: AuditService;
  /** after a commit that changed what the model cache holds for a model */
  changed(modelId: string): Promise<void>;
}

type Direction = 'incoming' | 'outgoing' | 'all';

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

function sharesWithNames(tx: DbOrTx, where: SQL | undefined) {
  return tx
    .select({ share: modelShares, modelName: models.name, ownerSlug: orgs.slug })
    .from(modelShares)
    .innerJoin(models, eq(models.id, modelShares.modelId))
    .innerJoin(orgs, eq(orgs.id, modelShares.ownerOrgId))
    .where(where)
    .orderBy(asc(modelShares.id));
}

/** A share the caller's org is on the given side of, locked for the rest of the transaction. */
async function lockShare(
  tx: DbOrTx,
  id: string,
  side: 'owner' | 'consumer',
  orgId: string,
): Promise<ShareWithNames> {
  const column = side === 'owner' ? modelShares.ownerOrgId : modelShares.consumerOrgId;
  const [row] = await sharesWithNames(tx, and(eq(modelShares.id, id), eq(column, orgId))).for('update', {
    of: modelShares,
  });
  if (!row) throw notFound('model share');
  return row;
}

/**
 * Model sharing between orgs, opt-in on both sides: the owner offers a model to an org, an operator
 * of that org accepts (or declines) it, the owner revokes it. Only an accepted share puts the model
 * in the receiving org's namespace, as `<owner-slug>/<name>`; a name the receiving org uses itself
 * is never taken (accepting is refused while it is, and the org's own model wins if a rename makes
 * them meet later). Each change is audited in both orgs' chains.
 */
export function createShareOps({ db, audit, changed }: ShareDeps) {
  /** Appends to both orgs' chains, in a fixed order (no two transactions wait on each other's chain). */
  const auditBoth = async (
    tx: DbOrTx,
    ctx: AuditContext,
    action: string,
    row: ShareWithNames,
    before: ShareWithNames | null,
    after: ShareWithNames | null,
  ) => {
    const chains = [row.share.ownerOrgId, row.share.consumerOrgId].sort();
    for (const orgId of chains) {
      await audit.append(tx, ctx, {
        orgId,
        action,
        target: { type: 'model_share', id: row.share.id },
        ...(before ? { before: toShareDto(before) } : {}),
        ...(after ? { after: toShareDto(after) } : {}),
      });
    }
  };

  return {
    /** Offers one of the caller's models to another org (again, after a decline). */
    async offerShare(
      p: Principal,
      modelId: string,
      input: OfferShareBody,
      ctx: AuditContext,
    ): Promise<ShareWithNames> {
      await findModel(db, p.orgId, modelId);
      if (input.org_id === p.orgId)
        throw new AppError('unprocessable', 'a model cannot be shared with its own org', undefined, {
          param: 'org_id',
        });
      const offered = db.transaction(async (tx) => {
        const model = await findModel(tx, p.orgId, modelId);
        const [org] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, input.org_id));
        if (!org)
          throw new AppError('unprocessable', `org ${input.org_id} not found`, undefined, {
            param: 'org_id',
          });
        const [existing] = await sharesWithNames(
          tx,
          and(eq(modelShares.modelId, model.id), eq(modelShares.consumerOrgId, org.id)),
        ).for('update', { of: modelShares });
        if (existing && existing.share.status !== 'declined')
          throw conflict(`the model is already ${existing.share.status} to this org`);
        const [share] = existing
          ? await tx
              .update(modelShares)
              .set({ status: 'offered', updatedAt: new Date() })
              .where(eq(modelShares.id, existing.share.id))
              .returning()
          : await tx
              .insert(modelShares)
              .values({
                id: newId('shr'),
                modelId: model.id,
                ownerOrgId: p.orgId,
                consumerOrgId: org.id,
              })
              .returning();
        const [owner] = await tx.select({ slug: orgs.slug }).from(orgs).where(eq(orgs.id, p.orgId));
        const after: ShareWithNames = { share: share!, modelName: model.name, ownerSlug: owner!.slug };
        await auditBoth(tx, ctx, 'model.share.offer', after, existing ?? null, after);
        return after;
      });
      // two offers of the same model to the same org at once: the second finds the first's row
      return offered.catch((err: unknown) => {
        if (isUniqueViolation(err)) throw conflict('the model is already offered to this org');
        throw err;
      });
    },

    /** Shares offered to the caller's org (incoming), by it (outgoing), or both. */
    async listShares(p: Principal, direction: Direction): Promise<ShareWithNames[]> {
      const incoming = eq(modelShares.consumerOrgId, p.orgId);
      const outgoing = eq(modelShares.ownerOrgId, p.orgId);
      return sharesWithNames(
        db,
        direction === 'incoming' ? incoming : direction === 'outgoing' ? outgoing : or(incoming, outgoing),
      );
    },

    /** The receiving org takes an offered model into its namespace as `<owner-slug>/<name>`. */
    async acceptShare(p: Principal, id: string, ctx: AuditContext): Promise<ShareWithNames> {
      const result = await db.transaction(async (tx) => {
        await lockOrg(tx, p.orgId);
        const before = await lockShare(tx, id, 'consumer', p.orgId);
        if (before.share.status === 'accepted') return { row: before, changed: false };
        if (before.share.status === 'declined')
          throw conflict('this share was declined; the owner has to offer it again');
        const name = `${before.ownerSlug}/${before.modelName}`;
        if ((await ownNames(tx, p.orgId)).has(name))
          throw conflict(`your org already has a model named "${name}"; rename it to accept this share`);
        const [share] = await tx
          .update(modelShares)
          .set({ status: 'accepted', updatedAt: new Date() })
          .where(eq(modelShares.id, id))
          .returning();
        const after = { ...before, share: share! };
        await auditBoth(tx, ctx, 'model.share.accept', after, before, after);
        return { row: after, changed: true };
      });
      if (result.changed) await changed(result.row.share.modelId);
      return result.row;
    },

    /** The receiving org refuses an offer, or gives up a share it accepted. */
    async declineShare(p: Principal, id: string, ctx: AuditContext): Promise<ShareWithNames> {
      const result = await db.transaction(async (tx) => {
        const before = await lockShare(tx, id, 'consumer', p.orgId);
        if (before.share.status === 'declined') return { row: before, wasAccepted: false };
        const [share] = await tx
          .update(modelShares)
          .set({ status: 'declined', updatedAt: new Date() })
          .where(eq(modelShares.id, id))
          .returning();
        const after = { ...before, share: share! };
        await auditBoth(tx, ctx, 'model.share.decline', after, before, after);
        return { row: after, wasAccepted: before.share.status === 'accepted' };
      });
      if (result.wasAccepted) await changed(result.row.share.modelId);
      return result.row;
    },

    /** The owner withdraws a share, offered or accepted. */
    async revokeShare(p: Principal, id: string, ctx: AuditContext): Promise<void> {
      const wasAccepted = await db.transaction(async (tx) => {
        const before = await lockShare(tx, id, 'owner', p.orgId);
        await tx.delete(modelShares).where(eq(modelShares.id, id));
        await auditBoth(tx, ctx, 'model.share.revoke', before, before, null);
        return before.share.status === 'accepted' ? before.share.modelId : null;
      });
      if (wasAccepted) await changed(wasAccepted);
    },
  };
}

/** Every name and alias of the org's own models. */
async function ownNames(tx: DbOrTx, orgId: string): Promise<Set<string>> {
  const rows = await tx
    .select({ name: models.name, aliases: models.aliases })
    .from(models)
    .where(eq(models.orgId, orgId));
  const names = new Set<string>();
  for (const r of rows) {
    names.add(r.name);
    for (const a of r.aliases) names.add(a);
  }
  return names;
}
