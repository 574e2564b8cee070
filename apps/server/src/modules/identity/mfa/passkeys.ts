import { isIP } from 'node:net';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../../../db/client.ts';
import { AppError, conflict } from '../../../http/app-error.ts';
import { newId } from '../../../ids.ts';
import { passkeyRegistrations, userPasskeys } from '../mfa-schema.ts';

/** @simplewebauthn/server (~4 MB of heap): loaded by the first passkey ceremony, not at start */
const webauthn = () =>
  Promise.all([import('@simplewebauthn/server'), import('@simplewebauthn/server/helpers')]);

const CEREMONY_MS = 5 * 60_000;
const MAX_PASSKEYS = 10;

export interface PasskeyView {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

/** Where the ceremony runs: the console's origin and the relying party id (its host name). */
export interface RelyingParty {
  origin: string;
  rpId: string;
}

/** The relying party of a console origin; WebAuthn has none for an IP address. */
export function relyingPartyOf(origin: string): RelyingParty {
  const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host))
    throw new AppError(
      'validation_failed',
      'passkeys need the console on a host name (e.g. localhost), not an IP address',
    );
  return { origin, rpId: host };
}

/** The origin must be the relying party's host or one of its subdomains (WebAuthn's own rule). */
function originFits(origin: string, rpId: string): boolean {
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
}

const invalidPasskey = (why: string) =>
  new AppError('invalid_credentials', `passkey not accepted: ${why}`, undefined, { param: 'response' });

const view = (row: typeof userPasskeys.$inferSelect): PasskeyView => ({
  id: row.id,
  name: row.name,
  created_at: row.createdAt.toISOString(),
  last_used_at: row.lastUsedAt?.toISOString() ?? null,
});

/** WebAuthn passkeys as a second factor; callers check who may act on whose passkeys. */
export function createPasskeys({ db }: { db: Db }) {
  const ofUser = (tx: DbOrTx, userId: string) =>
    tx
      .select()
      .from(userPasskeys)
      .where(eq(userPasskeys.userId, userId))
      .orderBy(asc(userPasskeys.createdAt));

  return {
    async count(tx: DbOrTx, userId: string): Promise<number> {
      return (await ofUser(tx, userId)).length;
    },

    async list(userId: string): Promise<PasskeyView[]> {
      return (await ofUser(db, userId)).map(view);
    },

    /** Creation options for the browser; one ceremony per user at a time (a new one replaces it). */
    async startRegistration(user: { userId: string; email: string }, rp: RelyingParty) {
      const existing = await ofUser(db, user.userId);
      if (existing.length >= MAX_PASSKEYS)
        throw conflict(`you have ${MAX_PASSKEYS} passkeys: remove one before adding another`);
      const [{ generateRegistrationOptions }] = await webauthn();
      const options = await generateRegistrationOptions({
        rpName: 'maas',
        rpID: rp.rpId,
        userName: user.email,
        userID: new TextEncoder().encode(user.userId),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        timeout: CEREMONY_MS,
      });
      const row = {
        challenge: options.challenge,
        rpId: rp.rpId,
        expiresAt: new Date(Date.now() + CEREMONY_MS),
      };
      await db
        .insert(passkeyRegistrations)
        .values({ userId: user.userId, ...row })
        .onConflictDoUpdate({ target: passkeyRegistrations.userId, set: row });
      return options;
    },

    /** Checks the authenticator's answer to the open ceremony and stores the new passkey. */
    async finishRegistration(
      tx: Tx,
      userId: string,
      input: { name: string; response: RegistrationResponseJSON },
      rp: RelyingParty,
    ): Promise<PasskeyView> {
      const [open] = await tx
        .delete(passkeyRegistrations)
        .where(and(eq(passkeyRegistrations.userId, userId), gt(passkeyRegistrations.expiresAt, new Date())))
        .returning();
      if (!open) throw conflict('no passkey registration under way (or it expired): start again');
      if (!originFits(rp.origin, open.rpId)) throw invalidPasskey('made for another site');
      const [{ verifyRegistrationResponse }, { isoBase64URL }] = await webauthn();
      const verified = await verifyRegistrationResponse({
        response: input.response,
        expectedChallenge: open.challenge,
        expectedOrigin: rp.origin,
        expectedRPID: open.rpId,
        requireUserVerification: false,
      }).catch((err: Error) => {
        throw invalidPasskey(err.message);
      });
      if (!verified.verified) throw invalidPasskey('the authenticator answer did not verify');
      const { credential } = verified.registrationInfo;
      const [row] = await tx
        .insert(userPasskeys)
        .values({
          id: newId('pky'),
          userId,
          name: input.name,
          credentialId: credential.id,
          publicKey: isoBase64URL.fromBuffer(credential.publicKey),
          signCount: credential.counter,
          transports: credential.transports ?? [],
          rpId: open.rpId,
        })
        .onConflictDoNothing({ target: userPasskeys.credentialId })
        .returning();
      if (!row) throw conflict('that passkey is already registered');
      return view(row);
    },

    /** Request options for a sign-in: only this user's passkeys, only for the site they were made for. */
    async authenticationOptions(tx: DbOrTx, userId: string, rp: RelyingParty) {
      const mine = (await ofUser(tx, userId)).filter((p) => originFits(rp.origin, p.rpId));
      if (mine.length === 0) throw conflict('you have no passkey for this site: use your code instead');
      const [{ generateAuthenticationOptions }] = await webauthn();
      return generateAuthenticationOptions({
        rpID: rp.rpId,
        allowCredentials: mine.map((p) => ({ id: p.credentialId, transports: p.transports })),
        userVerification: 'preferred',
        timeout: CEREMONY_MS,
      });
    },

    /**
     * Whether an assertion answers `challenge` with one of the user's passkeys; the signature
     * counter only moves forward (a cloned authenticator's replay is refused).
     */
    async verifyAssertion(
      tx: Tx,
      userId: string,
      challenge: string,
      response: AuthenticationResponseJSON,
      rp: RelyingParty,
    ): Promise<boolean> {
      const [passkey] = await tx
        .select()
        .from(userPasskeys)
        .where(and(eq(userPasskeys.userId, userId), eq(userPasskeys.credentialId, String(response.id))));
      if (!passkey || !originFits(rp.origin, passkey.rpId)) return false;
      const [{ verifyAuthenticationResponse }, { isoBase64URL }] = await webauthn();
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: passkey.rpId,
        credential: {
          id: passkey.credentialId,
          publicKey: isoBase64URL.toBuffer(passkey.publicKey),
          counter: passkey.signCount,
          transports: passkey.transports as never,
        },
        requireUserVerification: false,
      }).catch(() => null);
      if (!result?.verified) return false;
      await tx
        .update(userPasskeys)
        .set({ signCount: result.authenticationInfo.newCounter, lastUsedAt: new Date() })
        .where(eq(userPasskeys.id, passkey.id));
      return true;
    },

    /** Removes one of the user's passkeys; false when the user has none of that id. */
    async remove(tx: Tx, userId: string, id: string): Promise<boolean> {
      const gone = await tx
        .delete(userPasskeys)
        .where(and(eq(userPasskeys.id, id), eq(userPasskeys.userId, userId)))
        .returning({ id: userPasskeys.id });
      return gone.length > 0;
    },
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;
