import { and, asc, desc, eq, gt, lt, ne } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { conflict, forbidden, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import type { Actor } from '../../http/request-context.ts';
import { newId } from '../../ids.ts';
import type { AuditService } from '../audit/index.ts';
import type { Controller } from './controller.ts';
import { toJoinTokenDto, toNodeDto } from './dto.ts';
import { JOIN_TOKEN_DEFAULT_TTL_MS } from './register-node.ts';
import { joinTokens, type NodeRow, nodes, replicas } from './schema.ts';
import { issueFleetSecret, JOIN_TOKEN_PREFIX } from './secrets.ts';

export interface NodeServiceDeps {
  db: Db;
  audit: AuditService;
  controller: Controller;
}

/**
 * Nodes and join tokens are platform resources, shared by every org: only platform admins see or
 * change them. Anyone else gets 403 on the collections and 404 on a node or token id (its
 * existence is not theirs to learn).
 */
function requirePlatformAdmin(p: Principal, resource?: 'node' | 'join token'): void {
  if (p.kind === 'user' && p.isPlatformAdmin) return;
  if (resource) throw notFound(resource);
  throw forbidden(
    'nodes and join tokens are platform resources: only platform admins may see or change them',
  );
}

export function createNodeService(deps: NodeServiceDeps) {
  const { db, audit, controller } = deps;

  const find = async (tx: DbOrTx, id: string): Promise<NodeRow> => {
    const [row] = await tx.select().from(nodes).where(eq(nodes.id, id));
    if (!row) throw notFound('node');
    return row;
  };

  async function change(actor: Actor, id: string, action: string, set: Partial<NodeRow>): Promise<NodeRow> {
    requirePlatformAdmin(actor.principal, 'node');
    const row = await db.transaction(async (tx) => {
      const before = await find(tx, id);
      const [after] = await tx
        .update(nodes)
        .set({ ...set, updatedAt: new Date() })
        .where(eq(nodes.id, id))
        .returning();
      await audit.append(tx, actor.audit, {
        orgId: null,
        action,
        target: { type: 'node', id },
        before: toNodeDto(before),
        after: toNodeDto(after!),
      });
      return after!;
    });
    await controller.kick();
    return row;
  }

  return {
    async list(p: Principal, limit: number, cursor?: string): Promise<NodeRow[]> {
      requirePlatformAdmin(p);
      return db
        .select()
        .from(nodes)
        .where(cursor ? gt(nodes.id, cursor) : undefined)
        .orderBy(asc(nodes.id))
        .limit(limit + 1);
    },
    async get(p: Principal, id: string): Promise<NodeRow> {
      requirePlatformAdmin(p, 'node');
      return find(db, id);
    },
    /** Labels, and whether tenants' deployments may run there (the local node: no, unless set). */
    update: (
      actor: Actor,
      id: string,
      body: { labels?: Record<string, string> | undefined; tenant_workloads?: boolean | undefined },
    ) =>
      change(actor, id, 'node.update', {
        ...(body.labels ? { labels: body.labels } : {}),
        ...(body.tenant_workloads !== undefined ? { tenantWorkloads: body.tenant_workloads } : {}),
      }),
    cordon: (actor: Actor, id: string) => change(actor, id, 'node.cordon', { schedulable: false }),
    uncordon: (actor: Actor, id: string) =>
      change(actor, id, 'node.uncordon', { schedulable: true, draining: false }),
    /** No new replicas; each replica moves to another node and stops only once its replacement runs. */
    drain: (actor: Actor, id: string) =>
      change(actor, id, 'node.drain', { schedulable: false, draining: true }),

    /** Removes a node that runs nothing (drain it first); its agent's credential stops working. */
    async remove(actor: Actor, id: string): Promise<void> {
      requirePlatformAdmin(actor.principal, 'node');
      await db.transaction(async (tx) => {
        const before = await find(tx, id);
        const [busy] = await tx
          .select({ id: replicas.id })
          .from(replicas)
          .where(and(eq(replicas.nodeId, id), ne(replicas.state, 'stopped')))
          .limit(1);
        if (busy) throw conflict('the node still has replicas: drain it first');
        await tx.delete(nodes).where(eq(nodes.id, id));
        await audit.append(tx, actor.audit, {
          orgId: null,
          action: 'node.delete',
          target: { type: 'node', id },
          before: toNodeDto(before),
        });
      });
    },

    async createJoinToken(
      actor: Actor,
      input: {
        name: string;
        labels?: Record<string, string> | undefined;
        max_uses?: number | undefined;
        expires_in_seconds?: number | undefined;
      },
    ) {
      requirePlatformAdmin(actor.principal);
      const issued = issueFleetSecret(JOIN_TOKEN_PREFIX);
      const row = await db.transaction(async (tx) => {
        const [created] = await tx
          .insert(joinTokens)
          .values({
            id: newId('jtk'),
            name: input.name,
            prefix: issued.display,
            tokenHash: issued.hash,
            labels: input.labels ?? {},
            // Single-use and expiring unless the admin says otherwise (never non-expiring).
            maxUses: input.max_uses ?? 1,
            expiresAt: new Date(
              Date.now() +
                (input.expires_in_seconds ? input.expires_in_seconds * 1000 : JOIN_TOKEN_DEFAULT_TTL_MS),
            ),
            createdBy: actor.audit.actorId,
          })
          .returning();
        await audit.append(tx, actor.audit, {
          orgId: null,
          action: 'join_token.create',
          target: { type: 'join_token', id: created!.id },
          after: toJoinTokenDto(created!),
        });
        return created!;
      });
      return { row, token: issued.secret };
    },

    async listJoinTokens(p: Principal, limit: number, cursor?: string) {
      requirePlatformAdmin(p);
      return db
        .select()
        .from(joinTokens)
        .where(cursor ? lt(joinTokens.id, cursor) : undefined)
        .orderBy(desc(joinTokens.id))
        .limit(limit + 1);
    },

    async revokeJoinToken(actor: Actor, id: string): Promise<void> {
      requirePlatformAdmin(actor.principal, 'join token');
      await db.transaction(async (tx) => {
        const [before] = await tx.select().from(joinTokens).where(eq(joinTokens.id, id)).for('update');
        if (!before) throw notFound('join token');
        if (before.revokedAt) return;
        const [after] = await tx
          .update(joinTokens)
          .set({ revokedAt: new Date() })
          .where(eq(joinTokens.id, id))
          .returning();
        await audit.append(tx, actor.audit, {
          orgId: null,
          action: 'join_token.revoke',
          target: { type: 'join_token', id },
          before: toJoinTokenDto(before),
          after: toJoinTokenDto(after!),
        });
      });
    },
  };
}

export type NodeService = ReturnType<typeof createNodeService>;
