import { and, eq, gt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AppError, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { type AuditContext, type AuditService, asAnonymous } from '../audit/index.ts';
import type { InvitationService } from './invitation-service.ts';
import { SELF_REGISTRATION } from './mail/invitation-mail.ts';
import { orgRegistration } from './mail/mail-schema.ts';
import type { Mailer } from './mail/mailer.ts';
import { invitations, orgs } from './schema.ts';

/** A second sign-up of the same address within this window mails nothing new. */
const RESEND_AFTER_MS = 60_000;

interface Deps {
  db: Db;
  audit: AuditService;
  mailer: Mailer;
  invitations: InvitationService;
}

export interface RegistrationSettings {
  enabled: boolean;
  domains: string[];
}

export const normalizeDomain = (d: string) => d.trim().toLowerCase().replace(/^@/, '');

/**
 * Self-registration: an org's owners or admins open it to addresses of listed domains (off by
 * default). Signing up mails a link to the address, exactly like an invitation as viewer; following
 * it proves the address and creates the account. The answer is the same whether or not the address
 * has an account or is a member already.
 */
export function createRegistrationService({ db, audit, mailer, invitations: service }: Deps) {
  async function settingsOf(orgId: string): Promise<RegistrationSettings> {
    const [row] = await db.select().from(orgRegistration).where(eq(orgRegistration.orgId, orgId));
    return { enabled: row?.enabled ?? false, domains: row?.domains ?? [] };
  }

  return {
    async get(p: Principal): Promise<RegistrationSettings> {
      return settingsOf(p.orgId);
    },

    async put(p: Principal, input: RegistrationSettings, ctx: AuditContext): Promise<RegistrationSettings> {
      const domains = [...new Set(input.domains.map(normalizeDomain))].sort();
      if (input.enabled && domains.length === 0)
        throw new AppError(
          'unprocessable',
          'list at least one email domain to open self-registration',
          undefined,
          {
            param: 'domains',
          },
        );
      const before = await settingsOf(p.orgId);
      await db.transaction(async (tx) => {
        const values = { enabled: input.enabled, domains, updatedAt: new Date() };
        await tx
          .insert(orgRegistration)
          .values({ orgId: p.orgId, ...values })
          .onConflictDoUpdate({ target: orgRegistration.orgId, set: values });
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'org.registration.update',
          target: { type: 'org', id: p.orgId },
          before,
          after: { enabled: input.enabled, domains },
        });
      });
      return { enabled: input.enabled, domains };
    },

    /** Mails a sign-up link to `email` when org `slug` is open to its domain. */
    async register(input: { org: string; email: string }, ctx: AuditContext): Promise<void> {
      const email = input.email.trim().toLowerCase();
      const [org] = await db.select({ id: orgs.id }).from(orgs).where(eq(orgs.slug, input.org));
      const settings = org ? await settingsOf(org.id) : null;
      if (!org || !settings?.enabled) throw notFound('org open to self-registration');
      const domain = email.slice(email.lastIndexOf('@') + 1);
      if (!settings.domains.includes(domain))
        throw new AppError(
          'forbidden',
          `this org does not take sign-ups from ${domain} addresses`,
          undefined,
          {
            param: 'email',
          },
        );
      if (!(await mailer.settings()))
        throw new AppError('service_unavailable', 'sign-up needs mail, which is not set up on this platform');
      const [recent] = await db
        .select({ id: invitations.id })
        .from(invitations)
        .where(
          and(
            eq(invitations.orgId, org.id),
            eq(invitations.email, email),
            eq(invitations.status, 'pending'),
            gt(invitations.createdAt, new Date(Date.now() - RESEND_AFTER_MS)),
          ),
        );
      if (recent || (await service.emailKnownToOrg(org.id, email))) return;
      await db.transaction((tx) =>
        service.offer(tx, org.id, SELF_REGISTRATION, { email, role: 'viewer' }, asAnonymous(ctx)),
      );
    },
  };
}

export type RegistrationService = ReturnType<typeof createRegistrationService>;
