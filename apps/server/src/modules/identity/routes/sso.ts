import cookie from '@fastify/cookie';
import { tokenPairSchema } from '@maas/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { clearRefreshCookie, setRefreshCookie } from '../refresh-cookie.ts';
import type { IdentityService } from '../service.ts';
import { safeLoopback } from '../sso/cli-sign-in.ts';
import { SsoRefused } from '../sso/sso-account.ts';
import { safeReturnTo } from '../sso/sso-login-service.ts';
import { IDP_KINDS } from '../sso-schema.ts';

/** Binds a sign-in to the browser that began it; Lax, since the IdP sends the browser back cross-site. */
const BINDING_COOKIE = 'maas_sso';
const BINDING_PATH = '/api/v1/auth/sso';
export const SSO_CALLBACK_PATH = '/api/v1/auth/sso/callback';

const originOf = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

function toLogin(reply: FastifyReply, params: Record<string, string>) {
  reply.clearCookie(BINDING_COOKIE, { path: BINDING_PATH });
  return reply.redirect(`/login?${new URLSearchParams(params)}`, 302);
}

export interface SsoRouteDeps {
  identity: Pick<IdentityService, 'identityProviders' | 'sso'>;
  refreshTokenTtlS: number;
}

/** Sign-in through OpenID Connect providers: `/api/v1/auth/sso/…`. */
export async function ssoRoutes(app: FastifyInstance, { identity, refreshTokenTtlS }: SsoRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { identityProviders, sso } = identity;
  const tags = ['auth'];
  const pub = { public: true };
  await app.register(cookie);

  r.get(
    '/auth/sso/providers',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Identity providers to offer on the login page',
        security: [],
        response: {
          200: z.object({
            data: z.array(z.object({ slug: z.string(), name: z.string(), kind: z.enum(IDP_KINDS) })),
          }),
        },
      },
    },
    async () => ({
      data: (await identityProviders.list())
        .filter((p) => p.enabled)
        .map((p) => ({ slug: p.slug, name: p.name, kind: p.kind })),
    }),
  );

  r.get(
    '/auth/sso/:slug/start',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Begin signing in through an identity provider (a browser navigation)',
        description:
          'Redirects to the provider (authorization code flow with PKCE; state, nonce and verifier stay ' +
          `on the server, bound to this browser by the short-lived HttpOnly ${BINDING_COOKIE} cookie). ` +
          '`return_to` is a path of the console; anything else (another origin, `//host`) is refused.',
        security: [],
        params: z.strictObject({ slug: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/) }),
        querystring: z.strictObject({
          return_to: z.string().max(2000).optional(),
          cli_redirect: z
            .string()
            .max(500)
            .optional()
            .describe(
              "`maas login --sso`: the CLI's loopback (http://127.0.0.1:<port>/…) that gets a one-time code",
            ),
          cli_challenge: z
            .string()
            .regex(/^[A-Za-z0-9_-]{43}$/)
            .optional()
            .describe('base64url SHA-256 of the verifier the CLI sends to /auth/sso/token'),
        }),
      },
    },
    async (req, reply) => {
      const { cli_redirect, cli_challenge } = req.query;
      if ((cli_redirect === undefined) !== (cli_challenge === undefined))
        throw new AppError('validation_failed', 'cli_redirect and cli_challenge go together', undefined, {
          param: 'cli_challenge',
        });
      const loopback = cli_redirect === undefined ? undefined : safeLoopback(cli_redirect);
      if (loopback === null)
        throw new AppError(
          'validation_failed',
          'cli_redirect: only http://127.0.0.1:<port>/… (or [::1], localhost) is allowed',
          undefined,
          { param: 'cli_redirect' },
        );
      const returnTo = safeReturnTo(req.query.return_to);
      if (returnTo === null)
        throw new AppError(
          'validation_failed',
          'return_to: only a path of this console (starting with a single "/") is allowed',
          undefined,
          { param: 'return_to' },
        );
      try {
        const { url, binding } = await sso.start(req.params.slug, {
          returnTo,
          redirectUri: `${originOf(req)}${SSO_CALLBACK_PATH}`,
          ...(loopback && cli_challenge ? { cli: { redirect: loopback, challenge: cli_challenge } } : {}),
        });
        reply.setCookie(BINDING_COOKIE, binding, {
          httpOnly: true,
          sameSite: 'lax',
          secure: req.protocol === 'https',
          path: BINDING_PATH,
          maxAge: 600,
        });
        return reply.redirect(url, 302);
      } catch (err) {
        // a slug no enabled provider has is bad input (the login page lists only real ones)
        if (err instanceof SsoRefused && err.reason === 'unknown_provider')
          throw new AppError('not_found', err.message);
        if (err instanceof SsoRefused) return toLogin(reply, { sso_error: err.reason });
        throw err;
      }
    },
  );

  r.get(
    '/auth/sso/callback',
    {
      config: pub,
      // its query carries the provider's authorization code: no access-log line with the URL
      logLevel: 'warn',
      schema: {
        tags,
        summary: 'Where identity providers send the browser back (register this as the redirect URI)',
        description:
          'On success the refresh token is set as the session cookie and the browser goes to ' +
          '`/login?sso=done&next=<return_to>`, where the console picks the session up; on failure to ' +
          '`/login?sso_error=<reason>`.',
        security: [],
        // the provider's parameters are named for OpenAPI; any other it adds passes through
        querystring: z
          .object({
            code: z.string().max(8000).optional(),
            state: z.string().max(8000).optional(),
            iss: z.string().max(8000).optional(),
            error: z.string().max(8000).optional(),
            error_description: z.string().max(8000).optional(),
          })
          .catchall(z.string().max(8000)),
      },
    },
    async (req, reply) => {
      try {
        const result = await sso.callback(req.query, req.cookies[BINDING_COOKIE], auditContextOf(req));
        if (result.kind === 'cli') {
          reply.clearCookie(BINDING_COOKIE, { path: BINDING_PATH });
          return reply.redirect(result.redirect, 302);
        }
        setRefreshCookie(req, reply, result.issued.pair.refresh_token, refreshTokenTtlS);
        return toLogin(reply, { sso: 'done', next: result.returnTo });
      } catch (err) {
        if (err instanceof SsoRefused) {
          req.log.warn({ reason: err.reason, err: err.message }, 'SSO sign-in refused');
          if (err.redirectTo) {
            reply.clearCookie(BINDING_COOKIE, { path: BINDING_PATH });
            return reply.redirect(err.redirectTo, 302);
          }
          return toLogin(reply, { sso_error: err.reason });
        }
        throw err;
      }
    },
  );

  r.post(
    '/auth/sso/token',
    {
      config: pub,
      schema: {
        tags,
        summary: "The CLI's end of `maas login --sso`: its one-time code and PKCE verifier for tokens",
        description:
          "The code reached the CLI's loopback after the provider confirmed the account; it works once, " +
          'for two minutes, and only with the verifier whose SHA-256 the sign-in began with. The refresh ' +
          'token is returned in the body.',
        security: [],
        body: z.strictObject({
          code: z.string().min(1).max(200),
          code_verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/),
        }),
        response: { 200: tokenPairSchema },
      },
    },
    async (req) =>
      (await sso.exchangeCliCode(req.body.code, req.body.code_verifier, auditContextOf(req))).pair,
  );

  r.post(
    '/auth/sso/logout',
    {
      schema: {
        tags,
        summary: 'End this session; for a session from an identity provider, its end-session URL',
        description:
          'Like /auth/logout, and returns `end_session_url` (RP-initiated logout) when the session came ' +
          'from a provider that offers one: send the browser there to sign out of the provider too.',
        body: z.strictObject({}).optional(),
        response: { 200: z.object({ end_session_url: z.string().nullable() }) },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      if (p.kind !== 'user')
        throw new AppError('validation_failed', 'API keys have no session to log out of');
      const url = await sso.logout(p, `${originOf(req)}/login`, auditContextOf(req));
      clearRefreshCookie(reply);
      return reply.send({ end_session_url: url });
    },
  );
}
