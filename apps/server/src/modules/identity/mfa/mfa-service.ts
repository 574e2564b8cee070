import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { SecretBox } from '../../../crypto/secret-box.ts';
import type { Db, DbOrTx, Tx } from '../../../db/client.ts';
import { AppError, conflict } from '../../../http/app-error.ts';
import { PERMISSIONS, permissionInfo } from '../../../http/permissions.ts';
import { newId } from '../../../ids.ts';
import { mfaRecoveryCodes, userMfa, userPasskeys } from '../mfa-schema.ts';
import { customRoles, roleAssignments } from '../roles-schema.ts';
import { memberships, orgs } from '../schema.ts';
import { hashRecoveryCode, looksLikeRecoveryCode, newRecoveryCodes } from './recovery-codes.ts';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';

interface Deps {
  db: Db;
  secrets: SecretBox;
}

export type MfaMethod = 'totp' | 'recovery_code' | 'passkey';

export interface MfaStatus {
  /** a second factor is on: TOTP, a passkey, or both */
  enabled: boolean;
  totp: boolean;
  passkeys: number;
  enrolment_pending: boolean;
  recovery_codes_left: number;
  /** an org of yours requires MFA of your role there: it cannot be turned off */
  required: boolean;
}

/** Permissions only an admin or owner holds among the built-in roles. */
const ADMIN_LEVEL: ReadonlySet<string> = new Set(
  PERMISSIONS.filter((name) => ['admin', 'owner'].includes(permissionInfo(name).level)),
);

/** TOTP factors and recovery codes of users; callers check who may act on whose factor. */
export function createMfaService({ db, secrets }: Deps) {
  async function factorOf(tx: DbOrTx, userId: string) {
    const [row] = await tx.select().from(userMfa).where(eq(userMfa.userId, userId));
    return row;
  }

  async function replaceRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    await tx
      .insert(mfaRecoveryCodes)
      .values(codes.map((code) => ({ id: newId('mfa'), userId, codeHash: hashRecoveryCode(code) })));
    return codes;
  }

  async function passkeyCount(tx: DbOrTx, userId: string): Promise<number> {
    const [row] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(userPasskeys)
      .where(eq(userPasskeys.userId, userId));
    return row?.n ?? 0;
  }

  /** The second factors a sign-in of the user may answer with. */
  async function methods(tx: DbOrTx, userId: string): Promise<MfaMethod[]> {
    const totp = Boolean((await factorOf(tx, userId))?.enabledAt);
    const passkeys = await passkeyCount(tx, userId);
    if (!totp && passkeys === 0) return [];
    return [
      ...(totp ? ['totp' as const] : []),
      ...(passkeys > 0 ? ['passkey' as const] : []),
      'recovery_code',
    ];
  }

  /** The method a right code used, or null; a TOTP step or a recovery code is never accepted twice. */
  async function consumeCode(tx: Tx, userId: string, code: string): Promise<MfaMethod | null> {
    const factor = await factorOf(tx, userId);
    const trimmed = code.trim();
    const step = factor?.enabledAt
      ? await checkTotp(secrets.open(factor.totpSecretSealed), trimmed, factor.lastStep)
      : null;
    if (step !== null) {
      // the step only moves forward, also against a concurrent use of the same code
      const moved = await tx
        .update(userMfa)
        .set({ lastStep: step })
        .where(
          and(
            eq(userMfa.userId, userId),
            sql`(${userMfa.lastStep} is null or ${userMfa.lastStep} < ${step})`,
          ),
        )
        .returning({ userId: userMfa.userId });
      return moved.length > 0 ? 'totp' : null;
    }
    if (!looksLikeRecoveryCode(trimmed)) return null;
    const used = await tx
      .update(mfaRecoveryCodes)
      .set({ usedAt: new Date() })
      .where(
        and(
          eq(mfaRecoveryCodes.userId, userId),
          eq(mfaRecoveryCodes.codeHash, hashRecoveryCode(trimmed)),
          isNull(mfaRecoveryCodes.usedAt),
        ),
      )
      .returning({ id: mfaRecoveryCodes.id });
    return used.length > 0 ? 'recovery_code' : null;
  }

  /**
   * Whether an org of the user requires MFA of the role the user holds there: owner or admin, or a
   * custom org role carrying any permission of the admin level (it administers the org just the same).
   */
  async function requiredFor(tx: DbOrTx, userId: string, orgId?: string): Promise<boolean> {
    const builtIn = await tx
      .select({ id: orgs.id })
      .from(memberships)
      .innerJoin(orgs, eq(orgs.id, memberships.orgId))
      .where(
        and(
          eq(memberships.userId, userId),
          inArray(memberships.role, ['owner', 'admin']),
          eq(orgs.mfaRequiredForAdmins, true),
          orgId ? eq(orgs.id, orgId) : undefined,
        ),
      )
      .limit(1);
    if (builtIn.length > 0) return true;
    const custom = await tx
      .select({ permissions: customRoles.permissions })
      .from(roleAssignments)
      .innerJoin(customRoles, eq(customRoles.id, roleAssignments.roleId))
      .innerJoin(orgs, eq(orgs.id, roleAssignments.orgId))
      .where(
        and(
          eq(roleAssignments.userId, userId),
          isNull(roleAssignments.projectId),
          eq(orgs.mfaRequiredForAdmins, true),
          orgId ? eq(orgs.id, orgId) : undefined,
        ),
      );
    return custom.some((row) => row.permissions.some((name) => ADMIN_LEVEL.has(name)));
  }

  return {
    consumeCode,
    requiredFor,
    methods,

    async isEnabled(tx: DbOrTx, userId: string): Promise<boolean> {
      return (await methods(tx, userId)).length > 0;
    },

    async hasTotp(tx: DbOrTx, userId: string): Promise<boolean> {
      return Boolean((await factorOf(tx, userId))?.enabledAt);
    },

    async status(userId: string): Promise<MfaStatus> {
      const factor = await factorOf(db, userId);
      const passkeys = await passkeyCount(db, userId);
      const [left] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)));
      const enabled = Boolean(factor?.enabledAt) || passkeys > 0;
      return {
        enabled,
        totp: Boolean(factor?.enabledAt),
        passkeys,
        enrolment_pending: Boolean(factor && !factor.enabledAt),
        recovery_codes_left: enabled ? (left?.n ?? 0) : 0,
        required: await requiredFor(db, userId),
      };
    },

    /** A new secret, shown once as an otpauth URI; it counts only once a code from it is confirmed. */
    async startEnrolment(userId: string, email: string): Promise<{ secret: string; otpauth_uri: string }> {
      const secret = await newTotpSecret();
      await db.transaction(async (tx) => {
        const factor = await factorOf(tx, userId);
        if (factor?.enabledAt) throw conflict('MFA is already on: turn it off first to enrol again');
        const totpSecretSealed = secrets.seal(secret);
        await tx
          .insert(userMfa)
          .values({ userId, totpSecretSealed })
          .onConflictDoUpdate({
            target: userMfa.userId,
            set: { totpSecretSealed, lastStep: null, createdAt: new Date() },
          });
      });
      return { secret, otpauth_uri: await totpUri(secret, email) };
    },

    /** Turns the factor on with a first right code; returns the recovery codes (shown once). */
    async confirmEnrolment(tx: Tx, userId: string, code: string): Promise<string[] | null> {
      const factor = await factorOf(tx, userId);
      if (!factor) throw conflict('no enrolment under way: start one first');
      if (factor.enabledAt) throw conflict('MFA is already on');
      const step = await checkTotp(secrets.open(factor.totpSecretSealed), code.trim(), null);
      if (step === null) return null;
      const on = await tx
        .update(userMfa)
        .set({ enabledAt: new Date(), lastStep: step })
        .where(and(eq(userMfa.userId, userId), isNull(userMfa.enabledAt)))
        .returning({ userId: userMfa.userId });
      if (on.length === 0) throw conflict('MFA is already on');
      return replaceRecoveryCodes(tx, userId);
    },

    /** Removes the TOTP factor; the recovery codes go too unless a passkey keeps MFA on. */
    async remove(tx: Tx, userId: string): Promise<void> {
      await tx.delete(userMfa).where(and(eq(userMfa.userId, userId), isNotNull(userMfa.enabledAt)));
      if ((await passkeyCount(tx, userId)) === 0)
        await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    },

    /** Recovery codes for a user who has none left unused (a first factor just came on). */
    async ensureRecoveryCodes(tx: Tx, userId: string): Promise<string[] | null> {
      const [left] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)));
      return (left?.n ?? 0) > 0 ? null : replaceRecoveryCodes(tx, userId);
    },

    /** Drops the recovery codes once no factor is left. */
    async dropCodesIfNoFactor(tx: Tx, userId: string): Promise<void> {
      if ((await methods(tx, userId)).length === 0)
        await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    },

    replaceRecoveryCodes,

    /** A clear 401 for a wrong second factor. */
    wrongCode: () =>
      new AppError('invalid_credentials', 'wrong or already used code', undefined, { param: 'code' }),
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
