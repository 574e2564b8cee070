import type { Db } from '../../../db/client.ts';
import { AppError, conflict } from '../../../http/app-error.ts';
import type { UserPrincipal } from '../../../http/principal.ts';
import type { AuditContext, AuditService } from '../../audit/index.ts';
import type { LoginThrottle } from '../login-throttle.ts';
import type { MfaService } from './mfa-service.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  mfa: MfaService;
  throttle: LoginThrottle;
}

/** A signed-in user's own second factor: there is no route that names another user's. */
export function createMfaAccount({ db, audit, mfa, throttle }: Deps) {
  const event = (p: UserPrincipal, action: string, after?: unknown) => ({
    orgId: p.orgId,
    action,
    target: { type: 'user', id: p.userId },
    ...(after ? { after } : {}),
  });

  /** Runs `work` when the code is right; a wrong one counts as a failed sign-in. */
  async function withCode<T>(
    p: UserPrincipal,
    code: string,
    ctx: AuditContext,
    work: (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => Promise<T>,
  ): Promise<T> {
    const ip = ctx.ip ?? 'unknown';
    await throttle.check(p.email, ip);
    if (!(await mfa.isEnabled(db, p.userId))) throw conflict('MFA is not on for your account');
    const result = await db.transaction(async (tx) =>
      (await mfa.consumeCode(tx, p.userId, code)) ? { value: await work(tx) } : null,
    );
    if (result) return result.value;
    await throttle.recordFailure(p.email, ip);
    await db.transaction((tx) => audit.append(tx, ctx, event(p, 'auth.mfa_failed')));
    throw mfa.wrongCode();
  }

  return {
    status: (p: UserPrincipal) => mfa.status(p.userId),

    async start(p: UserPrincipal, ctx: AuditContext) {
      const out = await mfa.startEnrolment(p.userId, p.email);
      await db.transaction((tx) => audit.append(tx, ctx, event(p, 'user.mfa_enrolment_start')));
      return out;
    },

    async confirm(p: UserPrincipal, code: string, ctx: AuditContext): Promise<string[]> {
      const ip = ctx.ip ?? 'unknown';
      await throttle.check(p.email, ip);
      const codes = await db.transaction(async (tx) => {
        const out = await mfa.confirmEnrolment(tx, p.userId, code);
        if (out) await audit.append(tx, ctx, event(p, 'user.mfa_enable'));
        return out;
      });
      if (codes) return codes;
      await throttle.recordFailure(p.email, ip);
      throw mfa.wrongCode();
    },

    async disable(p: UserPrincipal, code: string, ctx: AuditContext): Promise<void> {
      if (!(await mfa.hasTotp(db, p.userId))) throw conflict('TOTP is not on for your account');
      const others = (await mfa.methods(db, p.userId)).filter((m) => m === 'passkey');
      if (others.length === 0 && (await mfa.requiredFor(db, p.userId)))
        throw new AppError(
          'forbidden',
          'an org where you are an owner or admin requires MFA: it cannot be turned off',
          { reason: 'mfa_required' },
        );
      await withCode(p, code, ctx, async (tx) => {
        await mfa.remove(tx, p.userId);
        await audit.append(tx, ctx, event(p, 'user.mfa_disable'));
      });
    },

    regenerateRecoveryCodes(p: UserPrincipal, code: string, ctx: AuditContext): Promise<string[]> {
      return withCode(p, code, ctx, async (tx) => {
        const codes = await mfa.replaceRecoveryCodes(tx, p.userId);
        await audit.append(tx, ctx, event(p, 'user.mfa_recovery_codes_replace'));
        return codes;
      });
    },
  };
}

export type MfaAccount = ReturnType<typeof createMfaAccount>;
