import { and, asc, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Configuration } from 'openid-client';
import type { Logger } from 'pino';
import { randomToken, type SecretBox, sha256Hex } from '../../../crypto/secret-box.ts';
import type { Db } from '../../../db/client.ts';
import type { UserPrincipal } from '../../../http/principal.ts';
import { newId } from '../../../ids.ts';
import { type AuditContext, type AuditService, asUser } from '../../audit/index.ts';
import type { AuthService, Issued } from '../auth-service.ts';
import { sessions } from '../schema.ts';
import { ssoLogins, ssoSessions } from '../sso-schema.ts';
import type { CliSignInService } from './cli-sign-in.ts';
import { githubClaims, githubEndpoints } from './github.ts';
import { type OidcClients, openidClient } from './oidc-client.ts';
import type { IdentityProviderRow, IdentityProviderService } from './provider-service.ts';
import { type SsoAccountService, SsoRefused } from './sso-account.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  secrets: SecretBox;
  log: Logger;
  oidc: OidcClients;
  providers: IdentityProviderService;
  accounts: SsoAccountService;
  auth: AuthService;
  cliSignIn: CliSignInService;
}

export type CallbackResult =
  | { kind: 'browser'; issued: Issued; returnTo: string }
  | { kind: 'cli'; redirect: string };

const LOGIN_TTL_MS = 10 * 60_000;

/**
 * Where a sign-in may send the browser back to: a path of the console's own origin, nothing else
 * (no scheme, no `//host`, no backslash tricks, no control characters).
 */
export function safeReturnTo(value: string | undefined): string | null {
  if (value === undefined || value === '') return '/';
  if (value.length > 2000 || !value.startsWith('/') || value.includes('\\')) return null;
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return null;
  if (value.startsWith('//')) return null;
  const base = 'http://console.invalid';
  try {
    const url = new URL(value, base);
    return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : null;
  } catch {
    return null;
  }
}

/** The OpenID Connect authorization code flow with PKCE, state and nonce kept server-side. */
export function createSsoLoginService(deps: Deps) {
  const { db, audit, secrets, log, oidc: clients, providers, accounts, auth, cliSignIn } = deps;

  async function configOf(p: IdentityProviderRow) {
    return clients.configOf({
      ...p,
      clientSecret: p.clientSecretSealed ? secrets.open(p.clientSecretSealed) : null,
    });
  }

  /** The provider's answer to a sign-in taken by its callback: code exchange, account, session. */
  async function finish(
    login: typeof ssoLogins.$inferSelect,
    query: Record<string, string>,
    ctx: AuditContext,
  ): Promise<CallbackResult> {
    const p = await providers.get(login.providerId);
    if (!p.enabled) throw new SsoRefused('unknown_provider', 'this identity provider is turned off');
    if (query.error)
      throw new SsoRefused('idp_error', `the identity provider refused: ${query.error.slice(0, 100)}`);
    const config = await configOf(p);
    const oidc = await openidClient();
    const current = new URL(login.redirectUri);
    for (const [k, v] of Object.entries(query)) current.searchParams.set(k, v);
    const github = p.kind === 'github';
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(
        config,
        current,
        {
          pkceCodeVerifier: secrets.open(login.codeVerifierSealed),
          expectedState: query.state,
          // GitHub speaks OAuth 2.0 only: no ID token, so no nonce to check
          ...(github ? {} : { expectedNonce: login.nonce, idTokenExpected: true }),
        },
        { redirect_uri: login.redirectUri },
      );
    } catch (err) {
      log.warn({ provider: p.slug, err: (err as Error).message }, 'OIDC code exchange failed');
      throw new SsoRefused('exchange_failed', 'the identity provider did not confirm this sign-in');
    }
    if (github) {
      let claims: Record<string, unknown>;
      try {
        claims = await githubClaims(clients.fetch, githubEndpoints(p.issuer).api, tokens.access_token);
      } catch (err) {
        log.warn({ provider: p.slug, err: (err as Error).message }, 'GitHub user lookup failed');
        throw new SsoRefused('exchange_failed', 'GitHub did not tell who signed in');
      }
      return signedIn(p, login, await accounts.resolve(p, claims, ctx), null, ctx);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new SsoRefused('exchange_failed', 'the identity provider sent no ID token');
    let claims: Record<string, unknown> = { ...idClaims };
    if (config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      } catch (err) {
        log.warn({ provider: p.slug, err: (err as Error).message }, 'OIDC userinfo failed');
      }
    }
    const account = await accounts.resolve(p, claims, ctx);
    return signedIn(p, login, account, tokens.id_token ?? null, ctx);
  }

  /** A session for the account the provider vouched for (or the CLI's one-time hand-off). */
  async function signedIn(
    p: IdentityProviderRow,
    login: typeof ssoLogins.$inferSelect,
    account: Awaited<ReturnType<SsoAccountService['resolve']>>,
    idToken: string | null,
    ctx: AuditContext,
  ): Promise<CallbackResult> {
    if (login.cli) {
      const sealed = idToken ? secrets.seal(idToken) : null;
      return { kind: 'cli', redirect: await cliSignIn.handOff(login.id, login.cli, account, sealed) };
    }
    const issued = await db.transaction(async (tx) => {
      const familyId = newId('ses');
      const session = {
        userId: account.userId,
        orgId: account.orgId,
        familyId,
        delivery: 'cookie' as const,
      };
      const { sessionId, issued } = await auth.issueSession(tx, session, ctx);
      await tx.insert(ssoSessions).values({
        familyId,
        providerId: p.id,
        idTokenSealed: idToken ? secrets.seal(idToken) : null,
      });
      await audit.append(tx, asUser(ctx, account.userId), {
        orgId: account.orgId,
        action: 'auth.login',
        target: { type: 'session', id: sessionId },
        after: { method: 'sso', provider: p.slug, user_created: account.created },
      });
      return issued;
    });
    return { kind: 'browser', issued, returnTo: login.returnTo };
  }

  return {
    /** The IdP's authorization URL, and the binding the browser must bring back in a cookie. */
    async start(
      slug: string,
      input: { returnTo: string; redirectUri: string; cli?: { redirect: string; challenge: string } },
    ) {
      const p = await providers.getBySlug(slug);
      if (!p?.enabled) throw new SsoRefused('unknown_provider', `no identity provider "${slug}"`);
      let config: Configuration;
      try {
        config = await configOf(p);
      } catch (err) {
        log.warn({ provider: p.slug, err: (err as Error).message }, 'identity provider discovery failed');
        throw new SsoRefused('provider_unreachable', `identity provider "${p.name}" cannot be reached`);
      }
      const oidc = await openidClient();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const verifier = oidc.randomPKCECodeVerifier();
      const binding = randomToken(32);
      await db.delete(ssoLogins).where(lt(ssoLogins.expiresAt, new Date()));
      await db.insert(ssoLogins).values({
        id: newId('sso'),
        stateHash: sha256Hex(state),
        bindingHash: sha256Hex(binding),
        providerId: p.id,
        codeVerifierSealed: secrets.seal(verifier),
        nonce,
        redirectUri: input.redirectUri,
        returnTo: input.returnTo,
        expiresAt: new Date(Date.now() + LOGIN_TTL_MS),
        cli: input.cli ?? null,
      });
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: input.redirectUri,
        scope: p.scopes,
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, binding };
    },

    /**
     * Ends a sign-in: the state must name a live, unused sign-in begun by this browser (its binding
     * cookie), then the code is exchanged with the PKCE verifier and the ID token's nonce checked.
     */
    async callback(
      query: Record<string, string>,
      binding: string | undefined,
      ctx: AuditContext,
    ): Promise<CallbackResult> {
      const state = query.state;
      if (!state) throw new SsoRefused('invalid_state', 'the sign-in response carries no state');
      const [login] = await db
        .select()
        .from(ssoLogins)
        .where(
          and(
            eq(ssoLogins.stateHash, sha256Hex(state)),
            isNull(ssoLogins.consumedAt),
            gt(ssoLogins.expiresAt, new Date()),
          ),
        );
      if (!login) throw new SsoRefused('invalid_state', 'unknown, expired or already used sign-in');
      if (!binding || sha256Hex(binding) !== login.bindingHash)
        throw new SsoRefused('invalid_state', 'this sign-in was started in another browser');
      const taken = await db
        .update(ssoLogins)
        .set({ consumedAt: new Date() })
        .where(and(eq(ssoLogins.id, login.id), isNull(ssoLogins.consumedAt)))
        .returning({ id: ssoLogins.id });
      if (taken.length === 0) throw new SsoRefused('invalid_state', 'this sign-in was already used');
      try {
        return await finish(login, query, ctx);
      } catch (err) {
        // a CLI waits on its loopback: it learns why there, not on the console's login page
        if (err instanceof SsoRefused && login.cli)
          err.redirectTo = `${login.cli.redirect}?${new URLSearchParams({ sso_error: err.reason })}`;
        throw err;
      }
    },

    /** The CLI's one-time code (from its loopback) and its PKCE verifier: tokens in the body. */
    exchangeCliCode: cliSignIn.exchange,

    /** Ends the session; returns the IdP's end-session URL when the session came from one that has it. */
    async logout(p: UserPrincipal, postLogoutRedirectUri: string, ctx: AuditContext): Promise<string | null> {
      const [row] = await db
        .select({ sso: ssoSessions })
        .from(sessions)
        .innerJoin(ssoSessions, eq(ssoSessions.familyId, sessions.familyId))
        .where(eq(sessions.id, p.sessionId))
        .orderBy(asc(sessions.createdAt))
        .limit(1);
      await auth.logout(p, ctx);
      if (!row) return null;
      try {
        const provider = await providers.get(row.sso.providerId);
        const config = await configOf(provider);
        if (!config.serverMetadata().end_session_endpoint) return null;
        const params: Record<string, string> = {
          client_id: provider.clientId,
          post_logout_redirect_uri: postLogoutRedirectUri,
        };
        if (row.sso.idTokenSealed) params.id_token_hint = secrets.open(row.sso.idTokenSealed);
        return (await openidClient()).buildEndSessionUrl(config, params).href;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'no end-session URL for an SSO logout');
        return null;
      } finally {
        await db.delete(ssoSessions).where(eq(ssoSessions.familyId, row.sso.familyId));
      }
    },
  };
}

export type SsoLoginService = ReturnType<typeof createSsoLoginService>;
