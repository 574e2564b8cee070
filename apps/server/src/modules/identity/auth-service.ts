import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { randomToken, sha256Hex } from '../../crypto/secret-box.ts';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import type { UserPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import { createAccessTokens } from './access-tokens.ts';
import { verifyPassword } from './passwords.ts';
import { memberships, orgs, sessions, users } from './schema.ts';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  org_id: string;
}

interface AuthDeps {
  db: Db;
  audit: AuditService;
  config: Config;
  log: Logger;
}

const REFRESH_PREFIX = 'rt_';

/** Login, refresh-token rotation, logout and access-token verification. */
export function createAuthService({ db, audit, config }: AuthDeps) {
  const tokens = createAccessTokens(config.secretKey, config.accessTokenTtlS);

  async function issue(
    tx: Parameters<Parameters<Db['transaction']>[0]>[0],
    userId: string,
    orgId: string,
    familyId: string,
    ctx: AuditContext,
  ) {
    const refresh = `${REFRESH_PREFIX}${randomToken(32)}`;
    const sessionId = newId('ses');
    await tx.insert(sessions).values({
      id: sessionId,
      userId,
      orgId,
      familyId,
      tokenHash: sha256Hex(refresh),
      expiresAt: new Date(Date.now() + config.refreshTokenTtlS * 1000),
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    const access = await tokens.sign({ userId, orgId, sessionId });
    return {
      sessionId,
      pair: {
        access_token: access,
        refresh_token: refresh,
        token_type: 'Bearer' as const,
        expires_in: tokens.ttlSeconds,
        org_id: orgId,
      },
    };
  }

  return {
    async login(
      email: string,
      password: string,
      orgId: string | undefined,
      ctx: AuditContext,
    ): Promise<TokenPair> {
      const [user] = await db.select().from(users).where(eq(users.email, email.toLowerCase())).limit(1);
      const ok = await verifyPassword(user?.passwordHash ?? null, password);
      const member = user
        ? await db
            .select({ orgId: memberships.orgId })
            .from(memberships)
            .where(and(eq(memberships.userId, user.id), orgId ? eq(memberships.orgId, orgId) : undefined))
            .orderBy(asc(memberships.createdAt))
            .limit(1)
        : [];
      const chosenOrg = member[0]?.orgId;
      if (!user || !ok || user.disabledAt || !chosenOrg) {
        const reason = !user
          ? 'unknown_email'
          : !ok
            ? 'bad_password'
            : user.disabledAt
              ? 'user_disabled'
              : 'no_membership';
        await db.transaction((tx) =>
          audit.append(
            tx,
            { ...ctx, actorType: user ? 'user' : 'anonymous', actorId: user?.id ?? null },
            {
              orgId: user ? (chosenOrg ?? null) : null,
              action: 'auth.login_failed',
              after: { email, reason },
            },
          ),
        );
        if (user && ok && !user.disabledAt && orgId)
          throw new AppError('forbidden', 'you are not a member of that org');
        throw new AppError('invalid_credentials', 'invalid email or password');
      }
      return db.transaction(async (tx) => {
        const { sessionId, pair } = await issue(tx, user.id, chosenOrg, newId('ses'), ctx);
        await audit.append(
          tx,
          { ...ctx, actorType: 'user', actorId: user.id },
          { orgId: chosenOrg, action: 'auth.login', target: { type: 'session', id: sessionId } },
        );
        return pair;
      });
    },

    async refresh(refreshToken: string, ctx: AuditContext): Promise<TokenPair> {
      const invalid = () => new AppError('invalid_token', 'invalid, expired or revoked refresh token');
      if (!refreshToken.startsWith(REFRESH_PREFIX)) throw invalid();
      const [session] = await db
        .select()
        .from(sessions)
        .where(eq(sessions.tokenHash, sha256Hex(refreshToken)))
        .limit(1);
      if (!session || session.revokedAt || session.expiresAt.getTime() < Date.now()) throw invalid();
      if (session.rotatedAt) {
        // A rotated token used again means it leaked: end the whole family.
        await db.transaction(async (tx) => {
          await tx
            .update(sessions)
            .set({ revokedAt: new Date() })
            .where(and(eq(sessions.familyId, session.familyId), isNull(sessions.revokedAt)));
          await audit.append(
            tx,
            { ...ctx, actorType: 'user', actorId: session.userId },
            {
              orgId: session.orgId,
              action: 'auth.refresh_reused',
              target: { type: 'session', id: session.id },
            },
          );
        });
        throw invalid();
      }
      const [row] = await db
        .select({ disabledAt: users.disabledAt, member: memberships.id })
        .from(users)
        .leftJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.orgId, session.orgId)))
        .where(eq(users.id, session.userId));
      if (!row || row.disabledAt || !row.member) throw invalid();
      return db.transaction(async (tx) => {
        const rotated = await tx
          .update(sessions)
          .set({ rotatedAt: new Date() })
          .where(and(eq(sessions.id, session.id), isNull(sessions.rotatedAt)))
          .returning({ id: sessions.id });
        if (rotated.length === 0) throw invalid(); // lost a race with a concurrent refresh
        const { pair } = await issue(tx, session.userId, session.orgId, session.familyId, ctx);
        return pair;
      });
    },

    /** New tokens for another org the user belongs to; the current session stays as it is. */
    async switchOrg(principal: UserPrincipal, orgId: string, ctx: AuditContext): Promise<TokenPair> {
      const [member] = await db
        .select({ id: memberships.id })
        .from(memberships)
        .where(and(eq(memberships.userId, principal.userId), eq(memberships.orgId, orgId)));
      if (!member) throw new AppError('not_found', 'org not found');
      return db.transaction(async (tx) => {
        const { sessionId, pair } = await issue(tx, principal.userId, orgId, newId('ses'), ctx);
        await audit.append(tx, ctx, {
          orgId,
          action: 'auth.switch_org',
          target: { type: 'session', id: sessionId },
          before: { org_id: principal.orgId },
          after: { org_id: orgId },
        });
        return pair;
      });
    },

    async logout(principal: UserPrincipal, ctx: AuditContext): Promise<void> {
      await db.transaction(async (tx) => {
        const [current] = await tx.select().from(sessions).where(eq(sessions.id, principal.sessionId));
        if (!current) return;
        await tx
          .update(sessions)
          .set({ revokedAt: new Date() })
          .where(and(eq(sessions.familyId, current.familyId), isNull(sessions.revokedAt)));
        await audit.append(tx, ctx, {
          orgId: principal.orgId,
          action: 'auth.logout',
          target: { type: 'session', id: current.id },
        });
      });
    },

    /** One query per admin call: the token's session must be live and the user still a member. */
    async verifyAccessToken(token: string): Promise<UserPrincipal> {
      const claims = await tokens.verify(token);
      const [row] = await db
        .select({
          email: users.email,
          disabledAt: users.disabledAt,
          isPlatformAdmin: users.isPlatformAdmin,
          role: memberships.role,
          revokedAt: sessions.revokedAt,
        })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.orgId, sessions.orgId)))
        .innerJoin(orgs, eq(orgs.id, sessions.orgId))
        .where(
          and(
            eq(sessions.id, claims.sessionId),
            eq(sessions.userId, claims.userId),
            eq(sessions.orgId, claims.orgId),
          ),
        );
      if (!row || row.revokedAt || row.disabledAt) {
        throw new AppError('invalid_token', 'session ended: log in again');
      }
      return {
        kind: 'user',
        userId: claims.userId,
        email: row.email,
        orgId: claims.orgId,
        role: row.role,
        isPlatformAdmin: row.isPlatformAdmin,
        sessionId: claims.sessionId,
      };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
