import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import type { IdentityService } from '../service.ts';

const domain = z
  .string()
  .trim()
  .max(253)
  .regex(/^@?([a-z0-9-]+\.)+[a-z]{2,}$/i, 'a domain such as example.com');

const settings = z.object({
  enabled: z.boolean(),
  domains: z.array(z.string()),
});

export interface RegistrationRouteDeps {
  identity: Pick<IdentityService, 'registration'>;
}

/** The org's self-registration: off by default; its owners and admins open it to listed domains. */
export async function registrationRoutes(app: FastifyInstance, { identity }: RegistrationRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { registration } = identity;
  const tags = ['invitations'];

  r.get(
    '/org-registration',
    {
      schema: {
        tags,
        summary: 'Whether your org takes sign-ups, and from which email domains',
        response: { 200: settings },
      },
    },
    async (req) => registration.get(principalOf(req)),
  );

  r.put(
    '/org-registration',
    {
      schema: {
        tags,
        summary: 'Open or close self-registration to your org (owners and admins)',
        body: z.strictObject({ enabled: z.boolean(), domains: z.array(domain).max(100) }),
        response: { 200: settings },
      },
    },
    async (req) => registration.put(principalOf(req), req.body, auditContextOf(req)),
  );
}
