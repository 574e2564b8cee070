import { and, asc, desc, eq, gt } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import type { Principal, Role, UserPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import { type AuditContext, type AuditService, asUser } from '../audit/index.ts';
import type { InvitationMail } from './mail/invitation-mail.ts';
import { invitations, memberships, orgs, users } from './schema.ts';

const INVITATION_TTL_MS = 14 * 86_400_000;

interface Deps {
  db: Db;
  audit: AuditService;
  /** mails the link of each new invitation when the platform has mail set up */
  mail: InvitationMail;
}

export type InvitationRow = typeof invitations.$inferSelect;

/**
 * Membership by consent. An org invites an email address; whoever owns that address accepts or
 * declines. The org sees the same pending invitation whether or not the address has an account, and
 * nothing of the account until it is accepted.
 */
export function createInvitationService({ db, audit, mail }: Deps) {
  const live = () => and(eq(invitations.status, 'pending'), gt(invitations.expiresAt, new Date()));

  /**
   * Creates (or renews) an org's pending invitation of an address and mails its link when mail is
   * set up. Callers check permissions.
   */
  async function offer(
    tx: DbOrTx,
    orgId: string,
    invitedBy: string,
    input: { email: string; role: Role; forNewAccount?: boolean },
    ctx: AuditContext,
  ): Promise<InvitationRow> {
    const email = input.email.trim().toLowerCase();
    await tx
      .update(invitations)
      .set({ status: 'revoked', respondedAt: new Date() })
      .where(
        and(eq(invitations.orgId, orgId), eq(invitations.email, email), eq(invitations.status, 'pending')),
      );
    const [row] = await tx
      .insert(invitations)
      .values({
        id: newId('inv'),
        orgId,
        email,
        role: input.role,
        forNewAccount: input.forNewAccount ?? false,
        invitedBy,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
      })
      .returning();
    await audit.append(tx, ctx, {
      orgId,
      action: 'invitation.create',
      target: { type: 'invitation', id: row!.id },
      after: { email, role: input.role },
    });
    return mail.schedule(tx, row!);
  }

  const invite = (
    tx: DbOrTx,
    p: Principal,
    input: { email: string; role: Role; forNewAccount?: boolean },
    ctx: AuditContext,
  ) => offer(tx, p.orgId, p.kind === 'user' ? p.userId : p.keyId, input, ctx);

  async function findMine(tx: DbOrTx, p: UserPrincipal, id: string) {
    const [row] = await tx
      .select()
      .from(invitations)
      .where(and(eq(invitations.id, id), eq(invitations.email, p.email.toLowerCase()), live()));
    if (!row) throw notFound('invitation');
    return row;
  }

  /** Adds the membership an invitation offers; an existing membership is left as it is. */
  async function join(tx: DbOrTx, inv: InvitationRow, userId: string, ctx: AuditContext) {
    await tx
      .update(invitations)
      .set({ status: 'accepted', respondedAt: new Date() })
      .where(eq(invitations.id, inv.id));
    const [existing] = await tx
      .select({ id: memberships.id })
      .from(memberships)
      .where(and(eq(memberships.orgId, inv.orgId), eq(memberships.userId, userId)));
    if (existing) return;
    const [row] = await tx
      .insert(memberships)
      .values({ id: newId('mem'), orgId: inv.orgId, userId, role: inv.role })
      .returning();
    await audit.append(tx, asUser(ctx, userId), {
      orgId: inv.orgId,
      action: 'invitation.accept',
      target: { type: 'membership', id: row!.id },
      after: { invitation_id: inv.id, role: inv.role },
    });
  }

  /** True when the address belongs to a member of this org (the org may know its own members). */
  async function emailKnownToOrg(orgId: string, email: string): Promise<boolean> {
    const [row] = await db
      .select({ id: users.id })
      .from(users)
      .innerJoin(memberships, eq(memberships.userId, users.id))
      .where(and(eq(users.email, email.trim().toLowerCase()), eq(memberships.orgId, orgId)));
    return Boolean(row);
  }

  return {
    invite,
    offer,
    join,
    emailKnownToOrg,

    async create(p: Principal, input: { email: string; role: Role }, ctx: AuditContext) {
      if (input.role === 'owner' && !(p.kind === 'user' && p.role === 'owner'))
        throw new AppError('forbidden', 'only an owner may grant or remove the owner role');
      if (await emailKnownToOrg(p.orgId, input.email))
        throw conflict('this user is already a member of the org');
      return db.transaction((tx) => invite(tx, p, input, ctx));
    },

    async listForOrg(p: Principal, limit: number, cursor?: string) {
      return db
        .select()
        .from(invitations)
        .where(and(eq(invitations.orgId, p.orgId), live(), cursor ? gt(invitations.id, cursor) : undefined))
        .orderBy(asc(invitations.id))
        .limit(limit + 1);
    },

    async revoke(p: Principal, id: string, ctx: AuditContext) {
      const [row] = await db
        .select()
        .from(invitations)
        .where(and(eq(invitations.id, id), eq(invitations.orgId, p.orgId), live()));
      if (!row) throw notFound('invitation');
      await db.transaction(async (tx) => {
        await tx
          .update(invitations)
          .set({ status: 'revoked', respondedAt: new Date() })
          .where(eq(invitations.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'invitation.revoke',
          target: { type: 'invitation', id },
        });
      });
    },

    /** Mails a pending invitation's link again: a new link (the last one stops working), a new expiry. */
    async resend(p: Principal, id: string, ctx: AuditContext) {
      const [row] = await db
        .select()
        .from(invitations)
        .where(and(eq(invitations.id, id), eq(invitations.orgId, p.orgId), live()));
      if (!row) throw notFound('invitation');
      return db.transaction(async (tx) => {
        const [renewed] = await tx
          .update(invitations)
          .set({ expiresAt: new Date(Date.now() + INVITATION_TTL_MS) })
          .where(eq(invitations.id, id))
          .returning();
        const mailed = await mail.schedule(tx, renewed!);
        if (mailed.mailSeq === renewed!.mailSeq)
          throw new AppError('unprocessable', 'mail is not set up: a platform admin sets the SMTP settings');
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'invitation.resend',
          target: { type: 'invitation', id },
        });
        return mailed;
      });
    },

    /** Invitations addressed to the caller's own email, with the inviting org's name. */
    async listMine(p: UserPrincipal) {
      return db
        .select({ invitation: invitations, orgName: orgs.name })
        .from(invitations)
        .innerJoin(orgs, eq(orgs.id, invitations.orgId))
        .where(and(eq(invitations.email, p.email.toLowerCase()), live()))
        .orderBy(desc(invitations.createdAt))
        .limit(100);
    },

    async accept(p: UserPrincipal, id: string, ctx: AuditContext) {
      return db.transaction(async (tx) => {
        const inv = await findMine(tx, p, id);
        await join(tx, inv, p.userId, ctx);
        return { ...inv, status: 'accepted' as const };
      });
    },

    async decline(p: UserPrincipal, id: string, ctx: AuditContext) {
      return db.transaction(async (tx) => {
        const inv = await findMine(tx, p, id);
        await tx
          .update(invitations)
          .set({ status: 'declined', respondedAt: new Date() })
          .where(eq(invitations.id, inv.id));
        await audit.append(tx, ctx, {
          orgId: inv.orgId,
          action: 'invitation.decline',
          target: { type: 'invitation', id: inv.id },
        });
        return { ...inv, status: 'declined' as const };
      });
    },

    /**
     * An account an org created with an invitation joins that org at its first sign-in: until then
     * the org sees only the invitation, exactly as for an address that already had an account.
     */
    async acceptOnFirstLogin(userId: string, email: string, ctx: AuditContext): Promise<void> {
      await db.transaction(async (tx) => {
        const pending = await tx
          .select()
          .from(invitations)
          .where(
            and(eq(invitations.email, email.toLowerCase()), eq(invitations.forNewAccount, true), live()),
          );
        if (pending.length === 0) return;
        const [member] = await tx
          .select({ id: memberships.id })
          .from(memberships)
          .where(eq(memberships.userId, userId))
          .limit(1);
        if (member) return;
        for (const inv of pending) await join(tx, inv, userId, ctx);
      });
    },
  };
}

export type InvitationService = ReturnType<typeof createInvitationService>;
