import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParams } from '../../../http/params.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { roleSchema } from '../dto.ts';
import type { IdentityService } from '../service.ts';
import { GITHUB_DEFAULT_SCOPES } from '../sso/github.ts';
import {
  requirePlatformAdmin,
  requirePlatformAdminFor,
  toIdentityProviderDto,
} from '../sso/provider-service.ts';
import { IDP_KINDS } from '../sso-schema.ts';

const issuer = z
  .string()
  .max(500)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.hash;
    } catch {
      return false;
    }
  }, 'an http(s) URL without credentials or fragment')
  .describe(
    'the issuer; its /.well-known/openid-configuration is fetched through the outbound policy: a ' +
      'private address only when MAAS_OUTBOUND_ALLOW lists it',
  );

const rule = z.strictObject({
  claim: z.string().min(1).max(200).describe('claim name or dotted path, e.g. groups, realm_access.roles'),
  value: z.string().min(1).max(500).describe('the value the claim must hold (or contain); "*" for anyone'),
  org_id: z.string().min(1).max(100),
  role: roleSchema,
});

const fields = {
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes'),
  name: z.string().trim().min(1).max(100),
  kind: z.enum(IDP_KINDS),
  issuer,
  client_id: z.string().min(1).max(500),
  client_secret: z
    .string()
    .min(1)
    .max(2000)
    .nullable()
    .describe('sealed at rest and never returned; null for a public client (PKCE only)'),
  scopes: z
    .string()
    .regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/)
    .max(500)
    .describe(`must include openid, except for GitHub (default "${GITHUB_DEFAULT_SCOPES}")`),
  enabled: z.boolean(),
  jit_users: z.boolean().describe('create an account at the first sign-in of an unknown user'),
  trust_email: z
    .boolean()
    .describe('treat the email claim as verified without email_verified (Entra ID sends none)'),
  rules: z.array(rule).max(200),
};

const dto = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  kind: z.enum(IDP_KINDS),
  issuer: z.string(),
  client_id: z.string(),
  has_client_secret: z.boolean(),
  scopes: z.string(),
  enabled: z.boolean(),
  jit_users: z.boolean(),
  trust_email: z.boolean(),
  rules: z.array(rule),
  created_at: z.string(),
  updated_at: z.string(),
});

export interface IdentityProviderRouteDeps {
  identity: Pick<IdentityService, 'identityProviders'>;
}

/** Platform admins' identity providers: `/api/v1/identity-providers`. */
export async function identityProviderRoutes(app: FastifyInstance, { identity }: IdentityProviderRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { identityProviders } = identity;
  const tags = ['identity-providers'];

  r.get(
    '/identity-providers',
    {
      schema: {
        tags,
        summary: 'Identity providers (platform admins)',
        response: { 200: z.object({ data: z.array(dto), next_cursor: z.null() }) },
      },
    },
    async (req) => {
      requirePlatformAdmin(principalOf(req));
      return { data: (await identityProviders.list()).map(toIdentityProviderDto), next_cursor: null };
    },
  );

  r.post(
    '/identity-providers',
    {
      schema: {
        tags,
        summary: 'Add an OpenID Connect identity provider, or GitHub over OAuth (platform admins)',
        description:
          'Discovery must succeed before it is saved (GitHub has none: its issuer is https://github.com or ' +
          'an Enterprise Server URL). Register `<console origin>/api/v1/auth/sso/callback` ' +
          'as its redirect URI and `<console origin>/login` as its post-logout redirect URI.',
        body: z.strictObject({
          ...fields,
          kind: fields.kind.default('oidc'),
          client_secret: fields.client_secret.optional(),
          scopes: fields.scopes.optional(),
          enabled: fields.enabled.default(true),
          jit_users: fields.jit_users.default(true),
          trust_email: fields.trust_email.default(false),
          rules: fields.rules.default([]),
        }),
        response: { 201: dto },
      },
    },
    async (req, reply) => {
      const row = await identityProviders.create(principalOf(req), req.body, auditContextOf(req));
      return reply.code(201).send(toIdentityProviderDto(row));
    },
  );

  r.get(
    '/identity-providers/:id',
    { schema: { tags, summary: 'One identity provider', params: idParams, response: { 200: dto } } },
    async (req) => {
      requirePlatformAdminFor(principalOf(req));
      return toIdentityProviderDto(await identityProviders.get(req.params.id));
    },
  );

  r.patch(
    '/identity-providers/:id',
    {
      schema: {
        tags,
        summary: 'Change an identity provider (platform admins)',
        description: '`client_secret`: leave out to keep it, null to remove it.',
        params: idParams,
        body: z.strictObject(fields).partial(),
        response: { 200: dto },
      },
    },
    async (req) =>
      toIdentityProviderDto(
        await identityProviders.update(principalOf(req), req.params.id, req.body, auditContextOf(req)),
      ),
  );

  r.delete(
    '/identity-providers/:id',
    {
      schema: {
        tags,
        summary: 'Remove an identity provider; accounts it made stay (with no password)',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await identityProviders.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );
}
