import type { OutboundPolicy } from '@maas/outbound';
import { eq } from 'drizzle-orm';
import type { SecretBox } from '../../../crypto/secret-box.ts';
import type { Db } from '../../../db/client.ts';
import { AppError, forbidden } from '../../../http/app-error.ts';
import type { Principal } from '../../../http/principal.ts';
import type { AuditContext, AuditService } from '../../audit/index.ts';
import { mailSettings, type SmtpSecurity } from './mail-schema.ts';
import { MailError, type Mailer, type MailSettingsRow, PLATFORM_MAIL_ID } from './mailer.ts';

export interface MailSettingsInput {
  host: string;
  port: number;
  security: SmtpSecurity;
  username: string | null;
  /** undefined: keep the stored one; null: none */
  password?: string | null | undefined;
  from_address: string;
  public_url: string;
}

interface Deps {
  db: Db;
  audit: AuditService;
  secrets: SecretBox;
  outbound: OutboundPolicy;
  mailer: Mailer;
}

function requirePlatformAdmin(p: Principal): void {
  if (p.kind !== 'user' || !p.isPlatformAdmin) throw forbidden('only platform admins configure mail');
}

export const toMailSettingsDto = (r: MailSettingsRow) => ({
  host: r.host,
  port: r.port,
  security: r.security,
  username: r.username,
  has_password: r.passwordSealed !== null,
  from_address: r.fromAddress,
  public_url: r.publicUrl,
  updated_at: r.updatedAt.toISOString(),
});

/** The platform's SMTP settings: platform admins only; the password is sealed and never returned. */
export function createMailSettingsService({ db, audit, secrets, mailer }: Deps) {
  return {
    async get(p: Principal): Promise<MailSettingsRow | null> {
      requirePlatformAdmin(p);
      return mailer.settings();
    },

    async put(p: Principal, input: MailSettingsInput, ctx: AuditContext): Promise<MailSettingsRow> {
      requirePlatformAdmin(p);
      return db.transaction(async (tx) => {
        const [old] = await tx.select().from(mailSettings).where(eq(mailSettings.id, PLATFORM_MAIL_ID));
        const passwordSealed =
          input.password === undefined
            ? (old?.passwordSealed ?? null)
            : input.password === null
              ? null
              : secrets.seal(input.password);
        const values = {
          host: input.host,
          port: input.port,
          security: input.security,
          username: input.username,
          passwordSealed,
          fromAddress: input.from_address,
          publicUrl: input.public_url.replace(/\/+$/, ''),
          updatedBy: p.kind === 'user' ? p.userId : null,
          updatedAt: new Date(),
        };
        const [row] = await tx
          .insert(mailSettings)
          .values({ id: PLATFORM_MAIL_ID, ...values })
          .onConflictDoUpdate({ target: mailSettings.id, set: values })
          .returning();
        await audit.append(tx, ctx, {
          orgId: null,
          action: 'mail_settings.update',
          target: { type: 'mail_settings', id: PLATFORM_MAIL_ID },
          ...(old ? { before: toMailSettingsDto(old) } : {}),
          after: toMailSettingsDto(row!),
        });
        return row!;
      });
    },

    async remove(p: Principal, ctx: AuditContext): Promise<void> {
      requirePlatformAdmin(p);
      await db.transaction(async (tx) => {
        await tx.delete(mailSettings).where(eq(mailSettings.id, PLATFORM_MAIL_ID));
        await audit.append(tx, ctx, {
          orgId: null,
          action: 'mail_settings.delete',
          target: { type: 'mail_settings', id: PLATFORM_MAIL_ID },
        });
      });
    },

    /** Sends a test mail now; a refusal comes back as 422 with the server's reason. */
    async test(p: Principal, to: string): Promise<void> {
      requirePlatformAdmin(p);
      try {
        await mailer.send({
          to,
          subject: 'maas: test mail',
          text: 'This is a test mail from maas. Mail from the platform (invitations, sign-up links) will arrive like this one.\n',
        });
      } catch (err) {
        if (err instanceof MailError) throw new AppError('unprocessable', err.message);
        throw err;
      }
    },
  };
}

export type MailSettingsService = ReturnType<typeof createMailSettingsService>;
