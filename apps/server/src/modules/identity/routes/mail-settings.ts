import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../../http/app-error.ts';
import { principalOf } from '../../../http/principal.ts';
import { auditContextOf } from '../../../http/request-context.ts';
import { emailSchema } from '../dto.ts';
import { SMTP_SECURITY } from '../mail/mail-schema.ts';
import { toMailSettingsDto } from '../mail/mail-settings.ts';
import type { IdentityService } from '../service.ts';

const hostname = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, 'a host name or IP address');

const publicUrl = z
  .string()
  .max(500)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (
        (u.protocol === 'https:' || u.protocol === 'http:') &&
        !u.username &&
        !u.password &&
        !u.search &&
        !u.hash
      );
    } catch {
      return false;
    }
  }, 'an http(s) URL without credentials, query or fragment')
  .describe('where the console is reached: links in mail are built from it, never from a request');

const body = z.strictObject({
  host: hostname.describe(
    'the SMTP server; dialled through the outbound policy (MAAS_OUTBOUND_ALLOW for private addresses)',
  ),
  port: z.number().int().min(1).max(65535),
  security: z
    .enum(SMTP_SECURITY)
    .describe('tls: TLS from the start (465); starttls: upgrade required (587); none'),
  username: z.string().min(1).max(320).nullable().default(null),
  password: z
    .string()
    .min(1)
    .max(1000)
    .nullable()
    .optional()
    .describe('sealed at rest and never returned; absent keeps the stored one, null removes it'),
  from_address: z.string().min(3).max(320).describe('the From header, e.g. "maas <noreply@example.com>"'),
  public_url: publicUrl,
});

const dto = z.object({
  host: z.string(),
  port: z.number(),
  security: z.enum(SMTP_SECURITY),
  username: z.string().nullable(),
  has_password: z.boolean(),
  from_address: z.string(),
  public_url: z.string(),
  updated_at: z.string(),
});

export interface MailSettingsRouteDeps {
  identity: Pick<IdentityService, 'mailSettings'>;
}

/** The platform's SMTP settings: platform admins only. */
export async function mailSettingsRoutes(app: FastifyInstance, { identity }: MailSettingsRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { mailSettings } = identity;
  const tags = ['mail'];

  r.get(
    '/mail-settings',
    {
      schema: {
        tags,
        summary: 'The SMTP settings mail is sent with (platform admins)',
        response: { 200: dto },
      },
    },
    async (req) => {
      const row = await mailSettings.get(principalOf(req));
      if (!row) throw notFound('mail settings');
      return toMailSettingsDto(row);
    },
  );

  r.put(
    '/mail-settings',
    {
      schema: {
        tags,
        summary: 'Set the SMTP settings and the public URL of links in mail (platform admins)',
        body,
        response: { 200: dto },
      },
    },
    async (req) => toMailSettingsDto(await mailSettings.put(principalOf(req), req.body, auditContextOf(req))),
  );

  r.delete(
    '/mail-settings',
    { schema: { tags, summary: 'Turn mail off (platform admins)', response: { 204: z.null() } } },
    async (req, reply) => {
      await mailSettings.remove(principalOf(req), auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/mail-settings/test',
    {
      schema: {
        tags,
        summary: 'Send a test mail now (platform admins); 422 with the reason when it cannot be sent',
        body: z.strictObject({ to: emailSchema }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await mailSettings.test(principalOf(req), req.body.to);
      return reply.code(204).send(null);
    },
  );
}
