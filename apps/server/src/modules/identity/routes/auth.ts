import cookie from '@fastify/cookie';
import { tokenPairSchema } from '@maas/contracts';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../../db/client.ts';
import { AppError } from '../../../http/app-error.ts';
import { effectiveRole, principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { roleSchema } from '../dto.ts';
import {
  clearRefreshCookie,
  REFRESH_COOKIE,
  refreshTokenOf,
  sendIssued,
  tokenDeliverySchema,
} from '../refresh-cookie.ts';
import { memberships, orgs, users } from '../schema.ts';
import type { IdentityService } from '../service.ts';

const tokenPair = tokenPairSchema.extend({
  refresh_token: z
    .string()
    .optional()
    .describe(`only for token_delivery "body"; browsers get it as the HttpOnly ${REFRESH_COOKIE} cookie`),
});

const mfaChallenge = z.object({
  mfa_required: z
    .enum(['verify', 'enrol'])
    .describe('"verify": POST /auth/mfa/verify with a code; "enrol": set up TOTP via /auth/mfa/enrol first'),
  mfa_token: z.string(),
  expires_in: z.number().int(),
  org_id: z.string(),
  mfa_methods: z
    .array(z.enum(['totp', 'passkey', 'recovery_code']))
    .optional()
    .describe('for "verify": the factors this account can answer with'),
});

const me = z.object({
  kind: z.enum(['user', 'key']),
  org: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  role: roleSchema.nullable(),
  user: z
    .object({
      id: z.string(),
      email: z.string(),
      name: z.string().nullable(),
      is_platform_admin: z.boolean(),
    })
    .optional(),
  key: z.object({ id: z.string(), project_id: z.string(), scopes: z.array(z.string()) }).optional(),
  memberships: z.array(z.object({ org_id: z.string(), org_name: z.string(), role: roleSchema })),
});

export interface AuthRouteDeps {
  identity: Pick<IdentityService, 'auth'>;
  refreshTokenTtlS: number;
  db: Db;
}

export async function authRoutes(app: FastifyInstance, { identity, refreshTokenTtlS, db }: AuthRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { auth } = identity;
  const pub = { public: true };
  await app.register(cookie);

  r.post(
    '/auth/login',
    {
      config: pub,
      schema: {
        tags: ['auth'],
        summary: 'Exchange email and password for an access token and a refresh token',
        description:
          'Failed sign-ins are throttled per account and per client address: once locked, every ' +
          'attempt gets 429 with Retry-After (doubling with each lockout). The refresh token is set ' +
          `as the HttpOnly, SameSite=Strict cookie ${REFRESH_COOKIE} (path /api/v1/auth) unless ` +
          '`token_delivery` is "body" (CLI and other non-browser clients), which returns it in the body. ' +
          'With a second factor on (or an org requiring one of admins) the answer is a challenge ' +
          '(`mfa_required`, `mfa_token`) instead of tokens. A member of an org requiring SSO gets 403 ' +
          '(`details.reason: "sso_required"`), platform admins excepted.',
        security: [],
        body: z.strictObject({
          email: z.string().min(1).max(320),
          password: z.string().min(1).max(1024),
          org_id: z.string().max(100).optional(),
          token_delivery: tokenDeliverySchema,
        }),
        response: { 200: z.union([tokenPair, mfaChallenge]) },
      },
    },
    async (req, reply) => {
      const { email, password, org_id, token_delivery } = req.body;
      const result = await auth.login(
        { email, password, orgId: org_id, delivery: token_delivery },
        auditContextOf(req),
      );
      if ('mfa_token' in result) return reply.send(result);
      return sendIssued(req, reply, result, refreshTokenTtlS);
    },
  );

  r.post(
    '/auth/refresh',
    {
      config: pub,
      schema: {
        tags: ['auth'],
        summary: 'Rotate a refresh token: the old one stops working',
        description:
          'Non-browser clients send `refresh_token` in the body and get the next one in the body. ' +
          `Browsers send nothing in the body: the ${REFRESH_COOKIE} cookie is read, which needs a JSON ` +
          'body (`{}`) and the header `X-Maas-Csrf: 1` (a cross-site form cannot send either), and the ' +
          'next token is set as the cookie again.',
        security: [],
        body: z.strictObject({ refresh_token: z.string().min(1).max(512).optional() }).optional(),
        response: { 200: tokenPair },
      },
    },
    async (req, reply) => {
      const issued = await auth.refresh(refreshTokenOf(req), auditContextOf(req));
      return sendIssued(req, reply, issued, refreshTokenTtlS);
    },
  );

  r.post(
    '/auth/switch-org',
    {
      schema: {
        tags: ['auth'],
        summary: 'Tokens for another org you belong to, without logging in again',
        description: 'The refresh token travels as the current session’s did (cookie or body).',
        body: z.strictObject({ org_id: z.string().min(1).max(100) }),
        response: { 200: tokenPair },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      if (p.kind !== 'user')
        throw new AppError('validation_failed', 'API keys belong to one org and cannot switch');
      return sendIssued(
        req,
        reply,
        await auth.switchOrg(p, req.body.org_id, auditContextOf(req)),
        refreshTokenTtlS,
      );
    },
  );

  r.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'End this session and every token rotated from it',
        body: z.strictObject({}).optional(),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      if (p.kind !== 'user')
        throw new AppError('validation_failed', 'API keys have no session to log out of');
      await auth.logout(p, auditContextOf(req));
      clearRefreshCookie(reply);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who the caller is, in which org and with which role',
        response: { 200: me },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const [org] = await db.select().from(orgs).where(eq(orgs.id, p.orgId));
      if (!org) throw new AppError('invalid_token', 'org no longer exists');
      const orgRef = { id: org.id, name: org.name, slug: org.slug };
      if (p.kind === 'key') {
        const role = effectiveRole(p);
        return {
          kind: 'key' as const,
          org: orgRef,
          role,
          key: { id: p.keyId, project_id: p.projectId, scopes: p.scopes },
          memberships: [],
        };
      }
      const [user] = await db.select().from(users).where(eq(users.id, p.userId));
      const mine = await db
        .select({ org_id: orgs.id, org_name: orgs.name, role: memberships.role })
        .from(memberships)
        .innerJoin(orgs, eq(orgs.id, memberships.orgId))
        .where(eq(memberships.userId, p.userId));
      return {
        kind: 'user' as const,
        org: orgRef,
        role: p.role,
        user: {
          id: user!.id,
          email: user!.email,
          name: user!.name,
          is_platform_admin: user!.isPlatformAdmin,
        },
        memberships: mine,
      };
    },
  );
}
