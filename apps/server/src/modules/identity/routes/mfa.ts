import cookie from '@fastify/cookie';
import { tokenPairSchema } from '@maas/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';
import { principalOf, type UserPrincipal } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { sendIssued, setRefreshCookie } from '../refresh-cookie.ts';
import type { IdentityService } from '../service.ts';

const code = z
  .string()
  .trim()
  .min(6)
  .max(20)
  .describe('the 6-digit code of your authenticator app, or one of your recovery codes');
const mfaToken = z.string().min(1).max(200).describe('from the sign-in answer that asked for it');
const enrolment = z.object({
  secret: z.string().describe('base32; shown once'),
  otpauth_uri: z.string().describe('for an authenticator app (or a QR code of it)'),
});
const recoveryCodes = z.object({
  recovery_codes: z.array(z.string()).describe('ten one-time codes, shown once: keep them safe'),
});
const tokenPair = tokenPairSchema.extend({ refresh_token: z.string().optional() });

function userOf(req: FastifyRequest): UserPrincipal {
  const p = principalOf(req);
  if (p.kind !== 'user') throw new AppError('forbidden', 'a second factor belongs to a user, not an API key');
  return p;
}

export interface MfaRouteDeps {
  identity: Pick<IdentityService, 'mfaLogin' | 'mfaAccount'>;
  refreshTokenTtlS: number;
}

/** TOTP second factor: the sign-in step (`/auth/mfa/…`) and your own factor (`/me/mfa/…`). */
export async function mfaRoutes(app: FastifyInstance, { identity, refreshTokenTtlS }: MfaRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { mfaLogin, mfaAccount } = identity;

  const pub = { public: true };
  const tags = ['mfa'];
  await app.register(cookie);

  r.post(
    '/auth/mfa/verify',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Finish a sign-in that answered mfa_required "verify"',
        description:
          'Wrong codes count as failed sign-ins of the account (same lockout and Retry-After). A code ' +
          'is accepted once; a recovery code once ever.',
        security: [],
        body: z.strictObject({ mfa_token: mfaToken, code }),
        response: { 200: tokenPair },
      },
    },
    async (req, reply) => {
      const issued = await mfaLogin.verify(req.body.mfa_token, req.body.code, auditContextOf(req));
      return sendIssued(req, reply, issued, refreshTokenTtlS);
    },
  );

  r.post(
    '/auth/mfa/enrol',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Set up TOTP during a sign-in that answered mfa_required "enrol" (org policy)',
        security: [],
        body: z.strictObject({ mfa_token: mfaToken }),
        response: { 200: enrolment },
      },
    },
    async (req) => mfaLogin.startEnrolment(req.body.mfa_token),
  );

  r.post(
    '/auth/mfa/enrol/confirm',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Confirm the new factor with its first code: it is turned on and the sign-in completes',
        security: [],
        body: z.strictObject({ mfa_token: mfaToken, code }),
        response: { 200: tokenPair.extend(recoveryCodes.shape) },
      },
    },
    async (req, reply) => {
      const { codes, issued } = await mfaLogin.confirmEnrolment(
        req.body.mfa_token,
        req.body.code,
        auditContextOf(req),
      );
      if (issued.delivery === 'body') return reply.send({ ...issued.pair, recovery_codes: codes });
      const { refresh_token, ...rest } = issued.pair;
      setRefreshCookie(req, reply, refresh_token, refreshTokenTtlS);
      return reply.send({ ...rest, recovery_codes: codes });
    },
  );

  r.get(
    '/me/mfa',
    {
      schema: {
        tags,
        summary: 'Your second factor',
        response: {
          200: z.object({
            enabled: z.boolean(),
            totp: z.boolean(),
            passkeys: z.number().int().describe('how many passkeys you have (see /me/mfa/passkeys)'),
            enrolment_pending: z.boolean(),
            recovery_codes_left: z.number().int(),
            required: z.boolean(),
          }),
        },
      },
    },
    async (req) => mfaAccount.status(userOf(req)),
  );

  r.post(
    '/me/mfa/totp',
    {
      schema: {
        tags,
        summary: 'Begin TOTP enrolment: a new secret, shown once; on only after /me/mfa/totp/confirm',
        body: z.strictObject({}).optional(),
        response: { 200: enrolment },
      },
    },
    async (req) => mfaAccount.start(userOf(req), auditContextOf(req)),
  );

  r.post(
    '/me/mfa/totp/confirm',
    {
      schema: {
        tags,
        summary: 'Turn TOTP on with a first code; returns ten recovery codes (shown once)',
        body: z.strictObject({ code }),
        response: { 200: recoveryCodes },
      },
    },
    async (req) => ({
      recovery_codes: await mfaAccount.confirm(userOf(req), req.body.code, auditContextOf(req)),
    }),
  );

  r.post(
    '/me/mfa/disable',
    {
      schema: {
        tags,
        summary: 'Turn your second factor off, with a current code or a recovery code',
        description: 'Refused while an org where you are an owner or admin requires MFA.',
        body: z.strictObject({ code }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await mfaAccount.disable(userOf(req), req.body.code, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/me/mfa/recovery-codes',
    {
      schema: {
        tags,
        summary: 'Replace your recovery codes (the old ones stop working)',
        body: z.strictObject({ code }),
        response: { 200: recoveryCodes },
      },
    },
    async (req) => ({
      recovery_codes: await mfaAccount.regenerateRecoveryCodes(
        userOf(req),
        req.body.code,
        auditContextOf(req),
      ),
    }),
  );
}
