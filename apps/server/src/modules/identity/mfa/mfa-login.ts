import type { Db } from '../../../db/client.ts';
import { newId } from '../../../ids.ts';
import { type AuditContext, type AuditService, asUser } from '../../audit/index.ts';
import type { AuthService, Issued } from '../auth-service.ts';
import type { LoginThrottle } from '../login-throttle.ts';
import type { LoginChallenges } from './login-challenges.ts';
import type { MfaService } from './mfa-service.ts';
import type { Passkeys, RelyingParty } from './passkeys.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  auth: AuthService;
  mfa: MfaService;
  passkeys: Passkeys;
  challenges: LoginChallenges;
  throttle: LoginThrottle;
}

/** The second step of a password sign-in: a code, or (org policy) enrolment before any session. */
export function createMfaLogin({ db, audit, auth, mfa, passkeys, challenges, throttle }: Deps) {
  async function failed(
    c: { userId: string; orgId: string; email: string },
    action: string,
    ctx: AuditContext,
  ) {
    const locks = await throttle.recordFailure(c.email, ctx.ip ?? 'unknown');
    await db.transaction(async (tx) => {
      const actor = asUser(ctx, c.userId);
      await audit.append(tx, actor, { orgId: c.orgId, action });
      for (const lock of locks)
        await audit.append(tx, actor, {
          orgId: lock.scope === 'account' ? c.orgId : null,
          action: 'auth.lockout',
          after: { scope: lock.scope, retry_after_s: lock.retryAfterS, lockouts_today: lock.count },
        });
    });
    return mfa.wrongCode();
  }

  async function finish(
    tx: Parameters<AuthService['issueSession']>[0],
    c: { id: string; userId: string; orgId: string; delivery: 'cookie' | 'body' },
    method: string,
    ctx: AuditContext,
  ): Promise<Issued> {
    await challenges.consume(tx, c.id);
    const session = { userId: c.userId, orgId: c.orgId, familyId: newId('ses'), delivery: c.delivery };
    const { sessionId, issued } = await auth.issueSession(tx, session, ctx);
    await audit.append(tx, asUser(ctx, c.userId), {
      orgId: c.orgId,
      action: 'auth.login',
      target: { type: 'session', id: sessionId },
      after: { method: 'password', mfa: method },
    });
    return issued;
  }

  return {
    /** A TOTP or recovery code for a "verify" challenge: tokens, or 401 (throttled like passwords). */
    async verify(token: string, code: string, ctx: AuditContext): Promise<Issued> {
      const c = await challenges.open(token, 'verify');
      await throttle.check(c.email, ctx.ip ?? 'unknown');
      const result = await db.transaction(async (tx) => {
        const method = await mfa.consumeCode(tx, c.userId, code);
        if (!method) return null;
        return finish(tx, c, method, ctx);
      });
      if (!result) throw await failed(c, 'auth.mfa_failed', ctx);
      await throttle.recordSuccess(c.email);
      return result;
    },

    /** WebAuthn request options for a "verify" challenge; a new call replaces the last challenge. */
    async passkeyOptions(token: string, rp: RelyingParty) {
      const c = await challenges.open(token, 'verify');
      const options = await passkeys.authenticationOptions(db, c.userId, rp);
      await challenges.setPasskeyChallenge(db, c.id, options.challenge);
      return options;
    },

    /** A passkey's answer to the challenge's options: tokens, or 401 (throttled like passwords). */
    async verifyPasskey(
      token: string,
      response: Parameters<Passkeys['verifyAssertion']>[3],
      rp: RelyingParty,
      ctx: AuditContext,
    ): Promise<Issued> {
      const c = await challenges.open(token, 'verify');
      await throttle.check(c.email, ctx.ip ?? 'unknown');
      const challenge = c.passkeyChallenge;
      const result = await db.transaction(async (tx) => {
        if (!challenge || !(await passkeys.verifyAssertion(tx, c.userId, challenge, response, rp)))
          return null;
        return finish(tx, c, 'passkey', ctx);
      });
      if (!result) throw await failed(c, 'auth.mfa_failed', ctx);
      await throttle.recordSuccess(c.email);
      return result;
    },

    /** An "enrol" challenge's secret (shown once); a new call replaces it. */
    async startEnrolment(token: string) {
      const c = await challenges.open(token, 'enrol');
      return mfa.startEnrolment(c.userId, c.email);
    },

    /** The first code of the new factor: turns it on and signs in; returns the recovery codes too. */
    async confirmEnrolment(token: string, code: string, ctx: AuditContext) {
      const c = await challenges.open(token, 'enrol');
      await throttle.check(c.email, ctx.ip ?? 'unknown');
      const result = await db.transaction(async (tx) => {
        const codes = await mfa.confirmEnrolment(tx, c.userId, code);
        if (!codes) return null;
        await audit.append(tx, asUser(ctx, c.userId), {
          orgId: c.orgId,
          action: 'user.mfa_enable',
          target: { type: 'user', id: c.userId },
        });
        return { codes, issued: await finish(tx, c, 'totp_enrolment', ctx) };
      });
      if (!result) throw await failed(c, 'auth.mfa_failed', ctx);
      await throttle.recordSuccess(c.email);
      return result;
    },
  };
}

export type MfaLogin = ReturnType<typeof createMfaLogin>;
