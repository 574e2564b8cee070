import type { OutboundPolicy } from '@maas/outbound';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { type CreateEndpointBody, type EndpointRow, toEndpointDto, type UpdateEndpointBody } from './dto.ts';
import { webhookEndpoints } from './schema.ts';
import { newSigningSecret } from './signing.ts';

export interface EndpointDeps {
  db: Db;
  audit: AuditService;
  secrets: SecretBox;
  outbound: OutboundPolicy;
  now?: () => Date;
}

/** Webhook endpoints of an org: CRUD, the signing secret (shown once) and its rotation. */
export function createEndpointStore(deps: EndpointDeps) {
  const { db, audit, secrets, outbound } = deps;
  const now = deps.now ?? (() => new Date());

  const find = async (tx: DbOrTx, orgId: string, id: string): Promise<EndpointRow> => {
    const [row] = await tx
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)));
    if (!row) throw notFound('webhook endpoint');
    return row;
  };

  /** A URL must pass the outbound policy when it is set (and again when each connection opens). */
  const checkUrl = async (url: string) => {
    const refused = await outbound.checkUrl(url);
    if (refused) throw new AppError('unprocessable', `url ${refused.message}`, undefined, { param: 'url' });
  };

  /** The secrets that sign now: the current one, and the previous one while its grace lasts. */
  const signingSecrets = (row: EndpointRow, at = now()): string[] => {
    const list = [secrets.open(row.secretEnc)];
    if (row.previousSecretEnc && row.previousSecretExpiresAt && row.previousSecretExpiresAt > at)
      list.push(secrets.open(row.previousSecretEnc));
    return list;
  };

  return {
    find,
    signingSecrets,

    async list(p: Principal, limit: number, cursor?: string) {
      return db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.orgId, p.orgId), cursor ? gt(webhookEndpoints.id, cursor) : undefined))
        .orderBy(asc(webhookEndpoints.id))
        .limit(limit + 1);
    },

    async get(p: Principal, id: string) {
      return find(db, p.orgId, id);
    },

    async create(p: Principal, input: CreateEndpointBody, ctx: AuditContext) {
      await checkUrl(input.url);
      const secret = newSigningSecret();
      const row = await db.transaction(async (tx) => {
        const [created] = await tx
          .insert(webhookEndpoints)
          .values({
            id: newId('whe'),
            orgId: p.orgId,
            url: input.url,
            description: input.description ?? null,
            events: input.events,
            enabled: input.enabled,
            secretEnc: secrets.seal(secret),
          })
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'webhook_endpoint.create',
          target: { type: 'webhook_endpoint', id: created!.id },
          after: toEndpointDto(created!),
        });
        return created!;
      });
      return { row, secret };
    },

    async update(p: Principal, id: string, input: UpdateEndpointBody, ctx: AuditContext) {
      await find(db, p.orgId, id);
      if (input.url !== undefined) await checkUrl(input.url);
      return db.transaction(async (tx) => {
        const before = await find(tx, p.orgId, id);
        const [after] = await tx
          .update(webhookEndpoints)
          .set({
            ...(input.url !== undefined ? { url: input.url } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.events !== undefined ? { events: input.events } : {}),
            ...(input.enabled !== undefined ? { enabled: input.enabled, disabledReason: null } : {}),
            updatedAt: now(),
          })
          .where(eq(webhookEndpoints.id, id))
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'webhook_endpoint.update',
          target: { type: 'webhook_endpoint', id },
          before: toEndpointDto(before),
          after: toEndpointDto(after!),
        });
        return after!;
      });
    },

    async remove(p: Principal, id: string, ctx: AuditContext) {
      await find(db, p.orgId, id);
      await db.transaction(async (tx) => {
        const before = await find(tx, p.orgId, id);
        await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'webhook_endpoint.delete',
          target: { type: 'webhook_endpoint', id },
          before: toEndpointDto(before),
        });
      });
    },

    /** A new secret, shown once; the previous one keeps signing alongside it for `graceS` seconds. */
    async rotateSecret(p: Principal, id: string, graceS: number, ctx: AuditContext) {
      await find(db, p.orgId, id);
      const secret = newSigningSecret();
      const at = now();
      const row = await db.transaction(async (tx) => {
        const before = await find(tx, p.orgId, id);
        const [after] = await tx
          .update(webhookEndpoints)
          .set({
            secretEnc: secrets.seal(secret),
            previousSecretEnc: graceS > 0 ? before.secretEnc : null,
            previousSecretExpiresAt: graceS > 0 ? new Date(at.getTime() + graceS * 1000) : null,
            updatedAt: at,
          })
          .where(eq(webhookEndpoints.id, id))
          .returning();
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'webhook_endpoint.rotate_secret',
          target: { type: 'webhook_endpoint', id },
          after: { ...toEndpointDto(after!, at), grace_period_s: graceS },
        });
        return after!;
      });
      return { row, secret };
    },

    /** maas turns an endpoint off when its receiver answers 410 Gone. */
    async disable(id: string, reason: string, ctx: AuditContext) {
      await db.transaction(async (tx) => {
        const [after] = await tx
          .update(webhookEndpoints)
          .set({ enabled: false, disabledReason: reason, updatedAt: now() })
          .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.enabled, true)))
          .returning();
        if (!after) return;
        await audit.append(tx, ctx, {
          orgId: after.orgId,
          action: 'webhook_endpoint.disable',
          target: { type: 'webhook_endpoint', id },
          after: toEndpointDto(after),
        });
      });
    },
  };
}

export type EndpointStore = ReturnType<typeof createEndpointStore>;
