import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { randomToken, sha256Hex } from '../../crypto/secret-box.ts';
import type { Db, Tx } from '../../db/client.ts';
import { AppError, forbidden } from '../../http/app-error.ts';
import type { UserPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import { type AuditContext, type AuditService, asAnonymous, asUser } from '../audit/index.ts';
import { createAccessTokens } from './access-tokens.ts';
import type { InvitationService } from './invitation-service.ts';
import type { Lockout, LoginThrottle } from './login-throttle.ts';
import type { LoginChallenges, MfaChallenge } from './mfa/login-challenges.ts';
import type { MfaService } from './mfa/mfa-service.ts';
import { assertPasswordPolicy } from './password-policy.ts';
import type { PasswordHasher } from './passwords.ts';
import { memberships, orgs, sessions, users } from './schema.ts';
import type { SessionService } from './session-service.ts';
import { assertPasswordSignInAllowed } from './sso/sso-required.ts';

export type TokenDelivery = 'cookie' | 'body';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  org_id: string;
}

/** A new token pair and how its refresh token must travel (the session's delivery never changes). */
export interface Issued {
  pair: TokenPair;
  delivery: TokenDelivery;
}

interface AuthDeps {
  db: Db;
  audit: AuditService;
  config: Config;
  log: Logger;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  invitations: InvitationService;
  sessionService: SessionService;
  mfa: MfaService;
  challenges: LoginChallenges;
}

const REFRESH_PREFIX = 'rt_';
const TOUCH_EVERY_MS = 60_000;

/** Login, refresh-token rotation, logout, password change and access-token verification. */
export function createAuthService(deps: AuthDeps) {
  const { db, audit, config, log, hasher, throttle, invitations, sessionService, mfa, challenges } = deps;
  const tokens = createAccessTokens(config.secretKey, config.accessTokenTtlS);

  async function issue(
    tx: Tx,
    session: { userId: string; orgId: string; familyId: string; delivery: TokenDelivery },
    ctx: AuditContext,
  ) {
    const refresh = `${REFRESH_PREFIX}${randomToken(32)}`;
    const sessionId = newId('ses');
    await tx.insert(sessions).values({
      id: sessionId,
      ...session,
      tokenHash: sha256Hex(refresh),
      expiresAt: new Date(Date.now() + config.refreshTokenTtlS * 1000),
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    const access = await tokens.sign({ userId: session.userId, orgId: session.orgId, sessionId });
    const pair: TokenPair = {
      access_token: access,
      refresh_token: refresh,
      token_type: 'Bearer',
      expires_in: tokens.ttlSeconds,
      org_id: session.orgId,
    };
    return { sessionId, issued: { pair, delivery: session.delivery } };
  }

  async function firstOrg(userId: string, orgId: string | undefined) {
    const [member] = await db
      .select({ orgId: memberships.orgId })
      .from(memberships)
      .where(and(eq(memberships.userId, userId), orgId ? eq(memberships.orgId, orgId) : undefined))
      .orderBy(asc(memberships.createdAt))
      .limit(1);
    return member?.orgId;
  }

  async function auditLockouts(
    tx: Tx,
    ctx: AuditContext,
    orgId: string | null,
    email: string,
    locks: Lockout[],
  ) {
    for (const lock of locks) {
      await audit.append(tx, ctx, {
        orgId: lock.scope === 'account' ? orgId : null,
        action: 'auth.lockout',
        after: {
          scope: lock.scope,
          ...(lock.scope === 'account' ? { email } : { ip: ctx.ip }),
          retry_after_s: lock.retryAfterS,
          lockouts_today: lock.count,
        },
      });
    }
  }

  return {
    /** A new session (its own refresh-token family) for a sign-in that passed every check. */
    issueSession: issue,

    /**
     * Tokens, or a challenge when a second factor is due (TOTP on) or must first be set up (an
     * owner or admin of an org requiring MFA, without one): no session exists until it is met.
     */
    async login(
      input: { email: string; password: string; orgId?: string | undefined; delivery: TokenDelivery },
      ctx: AuditContext,
    ): Promise<Issued | MfaChallenge> {
      const { email, password, orgId } = input;
      const ip = ctx.ip ?? 'unknown';
      await throttle.check(email, ip);
      const [user] = await db.select().from(users).where(eq(users.email, email.toLowerCase())).limit(1);
      const ok = await hasher.verify(user?.passwordHash ?? null, password);
      if (user && ok && !user.disabledAt && !(await firstOrg(user.id, undefined)))
        await invitations.acceptOnFirstLogin(user.id, user.email, ctx);
      const chosenOrg = user ? await firstOrg(user.id, orgId) : undefined;
      if (!user || !ok || user.disabledAt || !chosenOrg) {
        const reason = !user
          ? 'unknown_email'
          : !ok
            ? 'bad_password'
            : user.disabledAt
              ? 'user_disabled'
              : 'no_membership';
        const locks = ok ? [] : await throttle.recordFailure(email, ip);
        const auditOrg = user ? (chosenOrg ?? (await firstOrg(user.id, undefined)) ?? null) : null;
        await db.transaction(async (tx) => {
          const actor = user ? asUser(ctx, user.id) : asAnonymous(ctx);
          await audit.append(tx, actor, {
            orgId: auditOrg,
            action: 'auth.login_failed',
            after: { email, reason },
          });
          await auditLockouts(tx, actor, auditOrg, email, locks);
        });
        if (user && ok && !user.disabledAt && orgId) throw forbidden('you are not a member of that org');
        throw new AppError('invalid_credentials', 'invalid email or password');
      }
      await throttle.recordSuccess(email);
      await assertPasswordSignInAllowed(db, user);
      const purpose = (await mfa.isEnabled(db, user.id))
        ? ('verify' as const)
        : (await mfa.requiredFor(db, user.id, chosenOrg))
          ? ('enrol' as const)
          : null;
      if (purpose)
        return db.transaction(async (tx) => {
          const challenge = await challenges.create(
            tx,
            { userId: user.id, orgId: chosenOrg, purpose, delivery: input.delivery },
            await mfa.methods(tx, user.id),
          );
          await audit.append(tx, asUser(ctx, user.id), {
            orgId: chosenOrg,
            action: 'auth.mfa_challenge',
            after: { purpose },
          });
          return challenge;
        });
      return db.transaction(async (tx) => {
        const session = {
          userId: user.id,
          orgId: chosenOrg,
          familyId: newId('ses'),
          delivery: input.delivery,
        };
        const { sessionId, issued } = await issue(tx, session, ctx);
        await audit.append(tx, asUser(ctx, user.id), {
          orgId: chosenOrg,
          action: 'auth.login',
          target: { type: 'session', id: sessionId },
        });
        return issued;
      });
    },

    async refresh(refreshToken: string, ctx: AuditContext): Promise<Issued> {
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
          await audit.append(tx, asUser(ctx, session.userId), {
            orgId: session.orgId,
            action: 'auth.refresh_reused',
            target: { type: 'session', id: session.id },
          });
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
          .where(and(eq(sessions.id, session.id), isNull(sessions.rotatedAt), isNull(sessions.revokedAt)))
          .returning({ id: sessions.id });
        if (rotated.length === 0) throw invalid(); // lost a race with a concurrent refresh or a revoke
        const { userId, orgId, familyId, delivery } = session;
        const { issued } = await issue(tx, { userId, orgId, familyId, delivery }, ctx);
        return issued;
      });
    },

    /** New tokens for another org the user belongs to, delivered as the current session's were. */
    async switchOrg(principal: UserPrincipal, orgId: string, ctx: AuditContext): Promise<Issued> {
      const [member] = await db
        .select({ id: memberships.id })
        .from(memberships)
        .where(and(eq(memberships.userId, principal.userId), eq(memberships.orgId, orgId)));
      if (!member) throw new AppError('not_found', 'org not found');
      if (
        (await mfa.requiredFor(db, principal.userId, orgId)) &&
        !(await mfa.isEnabled(db, principal.userId))
      )
        throw forbidden(
          'that org requires two-step verification of its owners and admins: turn it on first (Profile & security)',
        );
      const [current] = await db
        .select({ delivery: sessions.delivery })
        .from(sessions)
        .where(eq(sessions.id, principal.sessionId));
      return db.transaction(async (tx) => {
        const session = {
          userId: principal.userId,
          orgId,
          familyId: newId('ses'),
          delivery: current?.delivery ?? 'cookie',
        };
        const { sessionId, issued } = await issue(tx, session, ctx);
        await audit.append(tx, ctx, {
          orgId,
          action: 'auth.switch_org',
          target: { type: 'session', id: sessionId },
          before: { org_id: principal.orgId },
          after: { org_id: orgId },
        });
        return issued;
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

    /**
     * Only the user changes their own password, and only with the current one (throttled like a
     * login). Every other session of the user ends; the caller's stays.
     */
    async changePassword(
      principal: UserPrincipal,
      input: { current: string | undefined; next: string },
      ctx: AuditContext,
    ): Promise<void> {
      if (input.current === undefined)
        throw new AppError(
          'validation_failed',
          'current_password: required to change your password',
          undefined,
          {
            param: 'current_password',
          },
        );
      const ip = ctx.ip ?? 'unknown';
      await throttle.check(principal.email, ip);
      const [user] = await db.select().from(users).where(eq(users.id, principal.userId));
      if (!user) throw new AppError('invalid_token', 'session ended: log in again');
      if (!(await hasher.verify(user.passwordHash, input.current))) {
        const locks = await throttle.recordFailure(principal.email, ip);
        await db.transaction(async (tx) => {
          await audit.append(tx, ctx, {
            orgId: principal.orgId,
            action: 'user.password_change_failed',
            target: { type: 'user', id: user.id },
          });
          await auditLockouts(tx, ctx, principal.orgId, user.email, locks);
        });
        throw new AppError('invalid_credentials', 'current_password is not your password', undefined, {
          param: 'current_password',
        });
      }
      assertPasswordPolicy(input.next, user.email);
      const passwordHash = await hasher.hash(input.next);
      await db.transaction(async (tx) => {
        await tx.update(users).set({ passwordHash, updatedAt: new Date() }).where(eq(users.id, user.id));
        const keep = await sessionService.familyOf(tx, principal.sessionId);
        const ended = await sessionService.revokeOthers(tx, user.id, keep);
        await audit.append(tx, ctx, {
          orgId: principal.orgId,
          action: 'user.password_change',
          target: { type: 'user', id: user.id },
          after: { other_sessions_ended: ended },
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
          lastUsedAt: sessions.lastUsedAt,
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
      if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
        // Best effort: the session list shows when a session was last used, to the minute.
        db.update(sessions)
          .set({ lastUsedAt: new Date() })
          .where(eq(sessions.id, claims.sessionId))
          .then(
            () => {},
            (err: Error) => log.warn({ err: err.message }, 'could not record session use'),
          );
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
