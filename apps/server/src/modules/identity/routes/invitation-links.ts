import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf } from '../../../http/request-context.ts';
import { emailSchema, invitationDto, toInvitationDto } from '../dto.ts';
import type { IdentityService } from '../service.ts';

const token = z
  .string()
  .regex(/^[A-Za-z0-9_-]{20,100}$/, 'the token from the invitation link')
  .describe('the token after #token= in the mailed link');

/**
 * The mailed link's page posts its token here (it travels in the link's fragment, so no server or
 * proxy logs it); no session is needed: the token proves the address.
 */
export interface InvitationLinkRouteDeps {
  identity: Pick<IdentityService, 'invitationLinks' | 'registration'>;
}

export async function invitationLinkRoutes(app: FastifyInstance, { identity }: InvitationLinkRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { invitationLinks, registration } = identity;
  const tags = ['invitations'];
  const pub = { public: true };

  r.post(
    '/auth/invitations/lookup',
    {
      config: pub,
      schema: {
        tags,
        summary: 'What an invitation link offers (org, role, expiry, whether the address has an account)',
        security: [],
        body: z.strictObject({ token }),
        response: { 200: invitationDto.extend({ has_account: z.boolean() }) },
      },
    },
    async (req) => {
      const found = await invitationLinks.lookup(req.body.token);
      return { ...toInvitationDto(found.invitation, found.orgName), has_account: found.hasAccount };
    },
  );

  r.post(
    '/auth/invitations/accept',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Accept an invitation by its link: joins the org, creating the account when there is none',
        description:
          'The link works once. For an address without an account, `password` (and optionally `name`) ' +
          'creates it; an existing account keeps its password and simply joins. Sign in afterwards.',
        security: [],
        body: z.strictObject({
          token,
          name: z.string().trim().min(1).max(200).optional(),
          password: z.string().min(1).max(1024).optional(),
        }),
        response: {
          200: z.object({ invitation: invitationDto, user_id: z.string(), account_created: z.boolean() }),
        },
      },
    },
    async (req) => {
      const { token: t, ...rest } = req.body;
      const done = await invitationLinks.accept(t, rest, auditContextOf(req));
      return {
        invitation: toInvitationDto(done.invitation),
        user_id: done.userId,
        account_created: done.accountCreated,
      };
    },
  );

  r.post(
    '/auth/invitations/decline',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Decline an invitation by its link',
        security: [],
        body: z.strictObject({ token }),
        response: { 200: invitationDto },
      },
    },
    async (req) => toInvitationDto(await invitationLinks.decline(req.body.token, auditContextOf(req))),
  );

  r.post(
    '/auth/register',
    {
      config: pub,
      schema: {
        tags,
        summary: 'Sign up to an org open to self-registration: a link is mailed to the address',
        description:
          '202 whether or not the address has an account or is a member already; following the ' +
          'mailed link (POST /auth/invitations/accept) creates the account and joins as viewer. 404 when ' +
          'the org takes no sign-ups, 403 when it does not take the address’s domain.',
        security: [],
        body: z.strictObject({
          org: z.string().min(1).max(100).describe('the org slug'),
          email: emailSchema,
        }),
        response: { 202: z.object({ status: z.literal('mailed') }) },
      },
    },
    async (req, reply) => {
      await registration.register(req.body, auditContextOf(req));
      return reply.code(202).send({ status: 'mailed' as const });
    },
  );
}
