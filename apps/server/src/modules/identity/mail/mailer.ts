import type { OutboundPolicy } from '@maas/outbound';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../../../crypto/secret-box.ts';
import type { Db, DbOrTx } from '../../../db/client.ts';
import { mailSettings, type SmtpSecurity } from './mail-schema.ts';

export const PLATFORM_MAIL_ID = 'platform';
const TIMEOUT_MS = 15_000;

export type MailSettingsRow = typeof mailSettings.$inferSelect;

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Why a mail could not be sent, in words safe to show an admin (no password, no token). */
export class MailError extends Error {
  override name = 'MailError';
}

interface Deps {
  db: Db;
  secrets: SecretBox;
  outbound: OutboundPolicy;
  log: Logger;
}

/**
 * Sends the platform's mail over SMTP with nodemailer. The host is resolved through the outbound
 * policy and the connection made to the permitted address it chose (TLS still verifies the name), so
 * a name that rebinds to a refused address is never dialled.
 */
export function createMailer({ db, secrets, outbound, log }: Deps) {
  async function settings(tx: DbOrTx = db): Promise<MailSettingsRow | null> {
    const [row] = await tx.select().from(mailSettings).where(eq(mailSettings.id, PLATFORM_MAIL_ID));
    return row ?? null;
  }

  async function deliver(row: MailSettingsRow, mail: Mail): Promise<void> {
    let address: string;
    try {
      [address] = (await outbound.permittedAddresses(row.host, row.port)) as [string];
    } catch (err) {
      throw new MailError(`SMTP host ${row.host}: ${(err as Error).message}`);
    }
    const security: SmtpSecurity = row.security;
    const { createTransport } = await import('nodemailer'); // loaded by the first mail, not at start
    const transport = createTransport({
      host: address,
      port: row.port,
      secure: security === 'tls',
      requireTLS: security === 'starttls',
      ignoreTLS: security === 'none',
      tls: { servername: row.host },
      name: new URL(row.publicUrl).hostname,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
      ...(row.username
        ? {
            auth: {
              user: row.username,
              pass: row.passwordSealed ? secrets.open(row.passwordSealed) : '',
            },
          }
        : {}),
    });
    try {
      await transport.sendMail({
        from: row.fromAddress,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
      });
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      log.warn({ code: e.code, response_code: e.responseCode, host: row.host }, 'mail not sent');
      throw new MailError(
        `SMTP ${row.host}:${row.port}: ${e.code ?? 'error'} ${e.responseCode ?? ''}`.trim(),
      );
    } finally {
      transport.close();
    }
  }

  return {
    settings,

    /** The configured public URL (no trailing slash), or null when mail is not set up. */
    async publicUrl(): Promise<string | null> {
      const row = await settings();
      return row ? row.publicUrl.replace(/\/+$/, '') : null;
    },

    /** Sends one mail; throws MailError when mail is not set up or the server refused it. */
    async send(mail: Mail): Promise<void> {
      const row = await settings();
      if (!row) throw new MailError('mail is not set up: a platform admin sets the SMTP settings');
      await deliver(row, mail);
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
