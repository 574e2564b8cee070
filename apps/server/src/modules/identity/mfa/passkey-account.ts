import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Db } from '../../../db/client.ts';
import { AppError } from '../../../http/app-error.ts';
import type { UserPrincipal } from '../../../http/principal.ts';
import type { AuditContext, AuditService } from '../../audit/index.ts';
import type { MfaService } from './mfa-service.ts';
import type { Passkeys, PasskeyView, RelyingParty } from './passkeys.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  mfa: MfaService;
  passkeys: Passkeys;
}

/** A signed-in user's own passkeys: there is no route that names another user's. */
export function createPasskeyAccount({ db, audit, mfa, passkeys }: Deps) {
  const event = (p: UserPrincipal, action: string, after?: unknown) => ({
    orgId: p.orgId,
    action,
    target: { type: 'user', id: p.userId },
    ...(after ? { after } : {}),
  });

  return {
    list: (p: UserPrincipal) => passkeys.list(p.userId),

    start: (p: UserPrincipal, rp: RelyingParty) => passkeys.startRegistration(p, rp),

    /** The new passkey, and recovery codes (shown once) when it is the account's first factor. */
    async finish(
      p: UserPrincipal,
      input: { name: string; response: RegistrationResponseJSON },
      rp: RelyingParty,
      ctx: AuditContext,
    ): Promise<{ passkey: PasskeyView; recovery_codes: string[] | null }> {
      return db.transaction(async (tx) => {
        const passkey = await passkeys.finishRegistration(tx, p.userId, input, rp);
        const codes = await mfa.ensureRecoveryCodes(tx, p.userId);
        await audit.append(tx, ctx, event(p, 'user.passkey_add', { id: passkey.id, name: passkey.name }));
        return { passkey, recovery_codes: codes };
      });
    },

    /** Removes a passkey; refused when it is the last factor of an admin whose org requires MFA. */
    async remove(p: UserPrincipal, id: string, ctx: AuditContext): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await passkeys.remove(tx, p.userId, id))) throw new AppError('not_found', 'passkey not found');
        if ((await mfa.methods(tx, p.userId)).length === 0 && (await mfa.requiredFor(tx, p.userId)))
          throw new AppError(
            'forbidden',
            'an org where you are an owner or admin requires MFA: add another factor before removing your last',
            { reason: 'mfa_required' },
          );
        await mfa.dropCodesIfNoFactor(tx, p.userId);
        await audit.append(tx, ctx, event(p, 'user.passkey_remove', { id }));
      });
    },
  };
}

export type PasskeyAccount = ReturnType<typeof createPasskeyAccount>;
