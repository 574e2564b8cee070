import { and, eq, gt, inArray, isNull, min, ne } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { notFound } from '../../http/app-error.ts';
import type { UserPrincipal } from '../../http/principal.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { sessions } from './schema.ts';

interface Deps {
  db: Db;
  audit: AuditService;
}

export interface SessionView {
  /** the session's id: stable across refresh-token rotations */
  id: string;
  orgId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

/**
 * A user's own sign-in sessions. A session is a refresh-token family: each rotation adds a row, and
 * the live row (not rotated, not revoked, not expired) carries what the user sees.
 */
export function createSessionService({ db, audit }: Deps) {
  async function familyOf(tx: DbOrTx, sessionId: string): Promise<string | undefined> {
    const [row] = await tx
      .select({ familyId: sessions.familyId })
      .from(sessions)
      .where(eq(sessions.id, sessionId));
    return row?.familyId;
  }

  return {
    familyOf,

    async list(p: UserPrincipal): Promise<SessionView[]> {
      const heads = await db
        .select()
        .from(sessions)
        .where(
          and(
            eq(sessions.userId, p.userId),
            isNull(sessions.revokedAt),
            isNull(sessions.rotatedAt),
            gt(sessions.expiresAt, new Date()),
          ),
        )
        .limit(500);
      if (heads.length === 0) return [];
      const started = await db
        .select({ familyId: sessions.familyId, at: min(sessions.createdAt) })
        .from(sessions)
        .where(
          and(
            eq(sessions.userId, p.userId),
            inArray(
              sessions.familyId,
              heads.map((h) => h.familyId),
            ),
          ),
        )
        .groupBy(sessions.familyId);
      const startedAt = new Map(started.map((s) => [s.familyId, s.at]));
      const current = await familyOf(db, p.sessionId);
      return heads
        .map((h) => ({
          id: h.familyId,
          orgId: h.orgId,
          createdAt: startedAt.get(h.familyId) ?? h.createdAt,
          lastUsedAt: h.lastUsedAt && h.lastUsedAt > h.createdAt ? h.lastUsedAt : h.createdAt,
          expiresAt: h.expiresAt,
          ip: h.ip,
          userAgent: h.userAgent,
          current: h.familyId === current,
        }))
        .sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime());
    },

    /** Ends one of the caller's own sessions (another user's is a 404). */
    async revoke(p: UserPrincipal, id: string, ctx: AuditContext): Promise<void> {
      await db.transaction(async (tx) => {
        const ended = await tx
          .update(sessions)
          .set({ revokedAt: new Date() })
          .where(and(eq(sessions.familyId, id), eq(sessions.userId, p.userId), isNull(sessions.revokedAt)))
          .returning({ id: sessions.id });
        if (ended.length === 0) throw notFound('session');
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'auth.session_revoke',
          target: { type: 'session', id },
        });
      });
    },

    /** Ends every session of the user but the one given (a password change keeps the caller's). */
    async revokeOthers(tx: DbOrTx, userId: string, keepFamilyId: string | undefined): Promise<number> {
      const ended = await tx
        .update(sessions)
        .set({ revokedAt: new Date() })
        .where(
          and(
            eq(sessions.userId, userId),
            isNull(sessions.revokedAt),
            keepFamilyId ? ne(sessions.familyId, keepFamilyId) : undefined,
          ),
        )
        .returning({ familyId: sessions.familyId });
      return new Set(ended.map((e) => e.familyId)).size;
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
