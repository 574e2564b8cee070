import { createHash } from 'node:crypto';
import { and, eq, gt, sql } from 'drizzle-orm';
import { randomToken, type SecretBox, sha256Hex } from '../../../crypto/secret-box.ts';
import type { Db } from '../../../db/client.ts';
import { AppError } from '../../../http/app-error.ts';
import { newId } from '../../../ids.ts';
import { type AuditContext, type AuditService, asUser } from '../../audit/index.ts';
import type { AuthService, Issued } from '../auth-service.ts';
import { type CliSignIn, ssoLogins, ssoSessions } from '../sso-schema.ts';

const CODE_TTL_MS = 120_000;

/**
 * Where a CLI waits for its sign-in: a loopback address with a port (RFC 8252 §7.3), nothing else,
 * so the one-time code never travels to another host.
 */
export function safeLoopback(value: string): string | null {
  try {
    const url = new URL(value);
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
    if (url.protocol !== 'http:' || !loopback || !url.port || url.username || url.password || url.hash)
      return null;
    return `${url.origin}${url.pathname}`;
  } catch {
    return null;
  }
}

export const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

interface Deps {
  db: Db;
  audit: AuditService;
  secrets: SecretBox;
  auth: AuthService;
}

/** The CLI's half of a sign-in through a provider: a one-time code for the loopback, then tokens. */
export function createCliSignIn({ db, audit, auth }: Deps) {
  return {
    /** After the provider confirmed the account: the URL that hands the CLI its one-time code. */
    async handOff(
      loginId: string,
      cli: CliSignIn,
      account: { userId: string; orgId: string },
      idTokenSealed: string | null,
    ): Promise<string> {
      const code = randomToken(32);
      await db
        .update(ssoLogins)
        .set({
          cli: {
            ...cli,
            code_hash: sha256Hex(code),
            user_id: account.userId,
            org_id: account.orgId,
            id_token_sealed: idTokenSealed,
          },
          expiresAt: new Date(Date.now() + CODE_TTL_MS),
        })
        .where(eq(ssoLogins.id, loginId));
      return `${cli.redirect}?${new URLSearchParams({ code })}`;
    },

    /** The code and the verifier of its challenge: a session whose refresh token travels in the body. */
    async exchange(code: string, verifier: string, ctx: AuditContext): Promise<Issued> {
      const invalid = () => new AppError('invalid_token', 'unknown, expired or already used sign-in code');
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(ssoLogins)
          .set({ cli: sql`${ssoLogins.cli} - 'code_hash'` })
          .where(
            and(
              sql`${ssoLogins.cli}->>'code_hash' = ${sha256Hex(code)}`,
              gt(ssoLogins.expiresAt, new Date()),
            ),
          )
          .returning();
        const cli = row?.cli;
        if (!row || !cli?.user_id || !cli.org_id) throw invalid();
        if (challengeOf(verifier) !== cli.challenge) throw invalid();
        const familyId = newId('ses');
        const session = { userId: cli.user_id, orgId: cli.org_id, familyId, delivery: 'body' as const };
        const { sessionId, issued } = await auth.issueSession(tx, session, ctx);
        await tx
          .insert(ssoSessions)
          .values({ familyId, providerId: row.providerId, idTokenSealed: cli.id_token_sealed ?? null });
        await audit.append(tx, asUser(ctx, cli.user_id), {
          orgId: cli.org_id,
          action: 'auth.login',
          target: { type: 'session', id: sessionId },
          after: { method: 'sso', client: 'cli' },
        });
        return issued;
      });
    },
  };
}

export type CliSignInService = ReturnType<typeof createCliSignIn>;
