import cookie from '@fastify/cookie';
import { tokenPairSchema } from '@maas/contracts';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';
import { principalOf, type UserPrincipal } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { relyingPartyOf } from '../mfa/passkeys.ts';
import { sendIssued } from '../refresh-cookie.ts';
import type { IdentityService } from '../service.ts';

const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');
/** The browser's PublicKeyCredential as JSON (`toJSON()`, or @simplewebauthn/browser's result). */
const credential = <T extends z.ZodRawShape>(response: T) =>
  z.object({
    id: b64url,
    rawId: b64url,
    type: z.literal('public-key'),
    authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    response: z.object(response),
  });
const registration = credential({
  clientDataJSON: b64url,
  attestationObject: b64url,
  authenticatorData: b64url.optional(),
  transports: z.array(z.string().max(32)).max(8).optional(),
  publicKeyAlgorithm: z.number().int().optional(),
  publicKey: b64url.optional(),
});
const assertion = credential({
  clientDataJSON: b64url,
  authenticatorData: b64url,
  signature: b64url,
  userHandle: b64url.optional(),
});
const options = z
  .looseObject({ challenge: z.string() })
  .describe('pass to navigator.credentials as publicKey');
const passkey = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
const mfaToken = z.string().min(1).max(200).describe('from the sign-in answer that asked for it');
const tokenPair = tokenPairSchema.extend({ refresh_token: z.string().optional() });

/** The console's origin as the browser sees it; the relying party id is its host name. */
const relyingParty = (req: FastifyRequest) => relyingPartyOf(`${req.protocol}://${req.host}`);

function userOf(req: FastifyRequest): UserPrincipal {
  const p = principalOf(req);
  if (p.kind !== 'user') throw new AppError('forbidden', 'a passkey belongs to a user, not an API key');
  return p;
}

export interface PasskeyRouteDeps {
  identity: Pick<IdentityService, 'mfaLogin' | 'passkeyAccount'>;
  refreshTokenTtlS: number;
}

/** WebAuthn passkeys as a second factor: the sign-in step and your own passkeys (`/me/mfa/passkeys`). */
export async function passkeyRoutes(app: FastifyInstance, { identity, refreshTokenTtlS }: PasskeyRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { mfaLogin, passkeyAccount } = identity;

  const pub = { public: true };
  const tags = ['mfa'];
  await app.register(cookie);

  r.post(
    '/auth/mfa/passkey/options',
    {
      config: pub,
      schema: {
        tags,
        summary: 'WebAuthn request options to answer a sign-in that asked for "verify" with a passkey',
        security: [],
        body: z.strictObject({ mfa_token: mfaToken }),
        response: { 200: options },
      },
    },
    async (req) => ({ ...(await mfaLogin.passkeyOptions(req.body.mfa_token, relyingParty(req))) }),
  );

  r.post(
    '/auth/mfa/passkey/verify',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Finish the sign-in with the passkey’s answer to the options',
        description: 'A refused answer counts as a failed sign-in of the account (same lockout).',
        security: [],
        body: z.strictObject({ mfa_token: mfaToken, response: assertion }),
        response: { 200: tokenPair },
      },
    },
    async (req, reply) => {
      const issued = await mfaLogin.verifyPasskey(
        req.body.mfa_token,
        req.body.response as AuthenticationResponseJSON,
        relyingParty(req),
        auditContextOf(req),
      );
      return sendIssued(req, reply, issued, refreshTokenTtlS);
    },
  );

  r.get(
    '/me/mfa/passkeys',
    { schema: { tags, summary: 'Your passkeys', response: { 200: z.object({ data: z.array(passkey) }) } } },
    async (req) => ({ data: await passkeyAccount.list(userOf(req)) }),
  );

  r.post(
    '/me/mfa/passkeys/options',
    {
      schema: {
        tags,
        summary: 'WebAuthn creation options for a new passkey (valid five minutes; a new call replaces them)',
        body: z.strictObject({}).optional(),
        response: { 200: options },
      },
    },
    async (req) => ({ ...(await passkeyAccount.start(userOf(req), relyingParty(req))) }),
  );

  r.post(
    '/me/mfa/passkeys',
    {
      schema: {
        tags,
        summary: 'Add the passkey the authenticator made for the options',
        description: 'The first factor of an account also returns ten recovery codes (shown once).',
        body: z.strictObject({ name: z.string().trim().min(1).max(64), response: registration }),
        response: {
          201: z.object({ passkey, recovery_codes: z.array(z.string()).nullable() }),
        },
      },
    },
    async (req, reply) => {
      const out = await passkeyAccount.finish(
        userOf(req),
        { name: req.body.name, response: req.body.response as RegistrationResponseJSON },
        relyingParty(req),
        auditContextOf(req),
      );
      return reply.code(201).send(out);
    },
  );

  r.delete(
    '/me/mfa/passkeys/:id',
    {
      schema: {
        tags,
        summary: 'Remove one of your passkeys',
        params: z.object({ id: z.string().max(100) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await passkeyAccount.remove(userOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );
}
