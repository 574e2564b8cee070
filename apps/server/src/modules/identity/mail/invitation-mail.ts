import { createHmac } from 'node:crypto';
import { and, eq, gt } from 'drizzle-orm';
import type { Logger } from 'pino';
import { sha256Hex } from '../../../crypto/secret-box.ts';
import type { Db, DbOrTx } from '../../../db/client.ts';
import type { JobEngine } from '../../jobs/index.ts';
import { invitations, orgs } from '../schema.ts';
import { MailError, type Mailer } from './mailer.ts';

export const INVITATION_MAIL_QUEUE = 'invitation-mail';

type InvitationRow = typeof invitations.$inferSelect;

interface Deps {
  db: Db;
  log: Logger;
  jobs: JobEngine;
  mailer: Mailer;
  /** MAAS_SECRET_KEY: link tokens are derived from it, so a retried mailing sends the same link */
  secretKey: Buffer;
}

/**
 * Invitation links by mail. Mailing n of an invitation carries the token HMAC(key, id:n): only its
 * SHA-256 is stored, a retried job sends the same link, a new mailing (resend) replaces the token, and
 * accepting or declining ends it. The link is built from the configured public URL only.
 */
export function createInvitationMail({ db, log, jobs, mailer, secretKey }: Deps) {
  const linkKey = createHmac('sha256', secretKey).update('maas invitation link').digest();
  const tokenOf = (id: string, seq: number) =>
    createHmac('sha256', linkKey).update(`${id}:${seq}`).digest('base64url');

  async function send(invitationId: string, seq: number, lastAttempt: boolean) {
    const [row] = await db
      .select({ inv: invitations, orgName: orgs.name })
      .from(invitations)
      .innerJoin(orgs, eq(orgs.id, invitations.orgId))
      .where(eq(invitations.id, invitationId));
    // answered, withdrawn, expired or mailed again since: this mailing is moot
    const moot = !row || row.inv.status !== 'pending' || row.inv.mailSeq !== seq;
    if (moot || row.inv.expiresAt <= new Date()) return { skipped: true };
    const base = await mailer.publicUrl();
    if (!base) throw new MailError('mail is not set up');
    const link = `${base}/invite#token=${tokenOf(invitationId, seq)}`;
    const selfService = row.inv.invitedBy === SELF_REGISTRATION;
    try {
      await mailer.send({
        to: row.inv.email,
        subject: selfService ? `Confirm your sign-up to ${row.orgName}` : `You are invited to ${row.orgName}`,
        text:
          `${selfService ? 'Someone (we hope you) asked to join' : 'You are invited to join'} ` +
          `the org "${row.orgName}" on maas as ${row.inv.role}.\n\n` +
          `Accept or decline here:\n${link}\n\n` +
          `The link works once and until ${row.inv.expiresAt.toISOString()}. ` +
          'If you did not expect this, ignore it.\n',
      });
    } catch (err) {
      if (lastAttempt)
        await db.update(invitations).set({ mailStatus: 'failed' }).where(eq(invitations.id, invitationId));
      throw err;
    }
    await db
      .update(invitations)
      .set({ mailStatus: 'sent', mailedAt: new Date() })
      .where(and(eq(invitations.id, invitationId), eq(invitations.mailSeq, seq)));
    return { sent: true };
  }

  return {
    /**
     * In the caller's transaction: a new link for a pending invitation (the last one stops working)
     * and a job that mails it. Nothing happens while mail is not set up.
     */
    async schedule(tx: DbOrTx, inv: InvitationRow): Promise<InvitationRow> {
      if (!(await mailer.settings(tx))) return inv;
      const seq = inv.mailSeq + 1;
      const [row] = await tx
        .update(invitations)
        .set({ mailSeq: seq, tokenHash: sha256Hex(tokenOf(inv.id, seq)), mailStatus: 'queued' })
        .where(eq(invitations.id, inv.id))
        .returning();
      await jobs.enqueue(
        {
          queue: INVITATION_MAIL_QUEUE,
          orgId: inv.orgId,
          payload: { invitation_id: inv.id, seq },
          dedupeKey: `${inv.id}:${seq}`,
          maxAttempts: 5,
        },
        tx,
      );
      return row!;
    },

    /** The pending, unexpired invitation a link token names, or null. */
    async byToken(tx: DbOrTx, token: string): Promise<InvitationRow | null> {
      const [row] = await tx
        .select()
        .from(invitations)
        .where(
          and(
            eq(invitations.tokenHash, sha256Hex(token)),
            eq(invitations.status, 'pending'),
            gt(invitations.expiresAt, new Date()),
          ),
        );
      return row ?? null;
    },

    start() {
      jobs.register(INVITATION_MAIL_QUEUE, { concurrency: 4, maxAttempts: 5 }, async ({ job }) => {
        const p = (job.payload ?? {}) as { invitation_id?: unknown; seq?: unknown };
        if (typeof p.invitation_id !== 'string' || typeof p.seq !== 'number') return { skipped: true };
        try {
          return await send(p.invitation_id, p.seq, job.attempts >= job.maxAttempts);
        } catch (err) {
          log.warn({ invitation_id: p.invitation_id, err: (err as Error).message }, 'invitation mail failed');
          throw err;
        }
      });
    },
  };
}

/** `invited_by` of the invitations that self-registration creates. */
export const SELF_REGISTRATION = 'self-registration';

export type InvitationMail = ReturnType<typeof createInvitationMail>;
