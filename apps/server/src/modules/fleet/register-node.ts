import { eq } from 'drizzle-orm';
import { safeEqual } from '../../crypto/secret-box.ts';
import type { Db, Tx } from '../../db/client.ts';
import { AppError, forbidden } from '../../http/app-error.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditInput, AuditService } from '../audit/index.ts';
import { toNodeDto } from './dto.ts';
import { type JoinTokenRow, joinTokens, type NodeRow, nodes } from './schema.ts';
import { hashFleetSecret, issueFleetSecret, NODE_TOKEN_PREFIX } from './secrets.ts';

/** A join token created without an expiry (before expiries were required) lapses this long after creation. */
export const JOIN_TOKEN_DEFAULT_TTL_MS = 24 * 3_600_000;

export interface RegisterInput {
  join_token: string;
  /** re-registering an existing node: the credential it was issued */
  node_token?: string | undefined;
  name: string;
  hostname: string;
  labels?: Record<string, string> | undefined;
}

/** A refusal worth an audit event; written after the transaction that refused rolls back. */
class Refusal extends Error {
  constructor(
    readonly error: AppError,
    readonly event: AuditInput,
  ) {
    super(error.message);
  }
}

const expiryOf = (t: JoinTokenRow) =>
  t.expiresAt ?? new Date(t.createdAt.getTime() + JOIN_TOKEN_DEFAULT_TTL_MS);

/** Why a known join token cannot be used now, or null when it can. */
function unusable(t: JoinTokenRow, now: Date): string | null {
  if (t.revokedAt) return 'was revoked';
  if (expiryOf(t) <= now) return `expired at ${expiryOf(t).toISOString()}`;
  if (t.maxUses !== null && t.uses >= t.maxUses) return `is used up (${t.uses} of ${t.maxUses} uses)`;
  return null;
}

/**
 * Registration: a join token (single-use or count-limited, always expiring) admits a new node.
 * A node that exists already is taken over only by whoever holds its own credential, and the
 * server's in-process node never. Every use and every refusal of a known token is audited.
 */
export async function registerNode(
  deps: { db: Db; audit: AuditService },
  input: RegisterInput,
  ctx: AuditContext,
): Promise<{ node: NodeRow; nodeToken: string }> {
  const { db, audit } = deps;
  const issued = issueFleetSecret(NODE_TOKEN_PREFIX);
  const now = new Date();
  try {
    const node = await db.transaction(async (tx) => {
      const token = await useToken(tx, input, now);
      const [existing] = await tx.select().from(nodes).where(eq(nodes.name, input.name)).for('update');
      if (existing) checkTakeover(existing, input, token);
      const values = {
        hostname: input.hostname,
        labels: { ...(existing?.labels ?? {}), ...token.labels, ...input.labels },
        tokenHash: issued.hash,
        joinTokenId: token.id,
        updatedAt: now,
      };
      const [row] = existing
        ? await tx.update(nodes).set(values).where(eq(nodes.id, existing.id)).returning()
        : await tx
            .insert(nodes)
            .values({ id: newId('nod'), name: input.name, ...values, createdAt: now })
            .returning();
      await audit.append(tx, ctx, {
        orgId: null,
        action: 'join_token.use',
        target: { type: 'join_token', id: token.id },
        after: { uses: token.uses + 1, max_uses: token.maxUses, node_id: row!.id, node_name: row!.name },
      });
      await audit.append(tx, ctx, {
        orgId: null,
        action: existing ? 'node.reregister' : 'node.register',
        target: { type: 'node', id: row!.id },
        after: { ...toNodeDto(row!), join_token_id: token.id },
      });
      return row!;
    });
    return { node, nodeToken: issued.secret };
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    await db.transaction((tx) => audit.append(tx, ctx, err.event));
    throw err.error;
  }
}

async function useToken(tx: Tx, input: RegisterInput, now: Date): Promise<JoinTokenRow> {
  const [token] = await tx
    .select()
    .from(joinTokens)
    .where(eq(joinTokens.tokenHash, hashFleetSecret(input.join_token)))
    .for('update');
  if (!token) throw new AppError('invalid_token', 'unknown join token');
  const why = unusable(token, now);
  if (why)
    throw new Refusal(
      new AppError(
        'invalid_token',
        `join token ${token.prefix}… ${why}: ask a platform admin for a new one (POST /api/v1/join-tokens)`,
      ),
      {
        orgId: null,
        action: 'join_token.refused',
        target: { type: 'join_token', id: token.id },
        after: { reason: why, node_name: input.name },
      },
    );
  await tx
    .update(joinTokens)
    .set({ uses: token.uses + 1 })
    .where(eq(joinTokens.id, token.id));
  return token;
}

/** Throws unless the caller may take over the existing node of that name. */
function checkTakeover(existing: NodeRow, input: RegisterInput, token: JoinTokenRow): void {
  const refuse = (message: string, reason: string) =>
    new Refusal(forbidden(message), {
      orgId: null,
      action: 'node.register_refused',
      target: { type: 'node', id: existing.id },
      after: { reason, join_token_id: token.id },
    });
  if (existing.local)
    throw refuse(
      `node ${existing.name} is the server's own node: it cannot be registered by an agent`,
      'local node',
    );
  const presented = input.node_token ? hashFleetSecret(input.node_token) : null;
  if (!presented || !existing.tokenHash || !safeEqual(presented, existing.tokenHash))
    throw refuse(
      `a node named ${existing.name} is registered already: re-registering it needs its own node credential (node_token), or delete the node first`,
      input.node_token ? 'wrong node credential' : 'no node credential',
    );
}
