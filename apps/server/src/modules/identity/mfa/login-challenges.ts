import { and, eq, gt, isNull } from 'drizzle-orm';
import { randomToken, sha256Hex } from '../../../crypto/secret-box.ts';
import type { Db, DbOrTx, Tx } from '../../../db/client.ts';
import { AppError } from '../../../http/app-error.ts';
import { newId } from '../../../ids.ts';
import type { TokenDelivery } from '../auth-service.ts';
import { loginChallenges } from '../mfa-schema.ts';
import { users } from '../schema.ts';
import type { MfaMethod } from './mfa-service.ts';

export type ChallengePurpose = 'verify' | 'enrol';

/** What a password sign-in answers instead of tokens when a second factor is due. */
export interface MfaChallenge {
  /** "verify": send a TOTP or recovery code; "enrol": set up TOTP first (org policy) */
  mfa_required: ChallengePurpose;
  mfa_token: string;
  expires_in: number;
  org_id: string;
  /** for "verify": the factors this account can answer with */
  mfa_methods?: MfaMethod[];
}

const PREFIX = 'mfa_';
const TTL_S: Record<ChallengePurpose, number> = { verify: 300, enrol: 900 };

export function createLoginChallenges({ db }: { db: Db }) {
  const invalid = () =>
    new AppError('invalid_token', 'sign-in expired or already finished: sign in again', undefined, {
      param: 'mfa_token',
    });

  return {
    async create(
      tx: DbOrTx,
      input: { userId: string; orgId: string; purpose: ChallengePurpose; delivery: TokenDelivery },
      methods: MfaMethod[] = [],
    ): Promise<MfaChallenge> {
      const token = `${PREFIX}${randomToken(32)}`;
      const ttl = TTL_S[input.purpose];
      await tx.insert(loginChallenges).values({
        id: newId('lch'),
        tokenHash: sha256Hex(token),
        ...input,
        expiresAt: new Date(Date.now() + ttl * 1000),
      });
      return {
        mfa_required: input.purpose,
        mfa_token: token,
        expires_in: ttl,
        org_id: input.orgId,
        ...(input.purpose === 'verify' ? { mfa_methods: methods } : {}),
      };
    },

    /** The live challenge of a token, with its user's email (for throttling); never consumed here. */
    async open(token: string, purpose: ChallengePurpose) {
      if (!token.startsWith(PREFIX)) throw invalid();
      const [row] = await db
        .select({ challenge: loginChallenges, email: users.email, disabledAt: users.disabledAt })
        .from(loginChallenges)
        .innerJoin(users, eq(users.id, loginChallenges.userId))
        .where(
          and(
            eq(loginChallenges.tokenHash, sha256Hex(token)),
            eq(loginChallenges.purpose, purpose),
            isNull(loginChallenges.consumedAt),
            gt(loginChallenges.expiresAt, new Date()),
          ),
        );
      if (!row || row.disabledAt) throw invalid();
      return { ...row.challenge, email: row.email };
    },

    /** Remembers the WebAuthn challenge a passkey must sign to finish this sign-in. */
    async setPasskeyChallenge(tx: DbOrTx, id: string, challenge: string): Promise<void> {
      await tx
        .update(loginChallenges)
        .set({ passkeyChallenge: challenge })
        .where(and(eq(loginChallenges.id, id), isNull(loginChallenges.consumedAt)));
    },

    /** Ends a challenge once: a second use (or a concurrent one) is refused. */
    async consume(tx: Tx, id: string): Promise<void> {
      const done = await tx
        .update(loginChallenges)
        .set({ consumedAt: new Date() })
        .where(and(eq(loginChallenges.id, id), isNull(loginChallenges.consumedAt)))
        .returning({ id: loginChallenges.id });
      if (done.length === 0) throw invalid();
    },
  };
}

export type LoginChallenges = ReturnType<typeof createLoginChallenges>;
