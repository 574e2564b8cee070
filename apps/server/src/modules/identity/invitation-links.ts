import { and, eq, gt } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import { newId } from '../../ids.ts';
import { type AuditContext, type AuditService, asUser } from '../audit/index.ts';
import type { InvitationService } from './invitation-service.ts';
import type { InvitationMail } from './mail/invitation-mail.ts';
import { assertPasswordPolicy } from './password-policy.ts';
import type { PasswordHasher } from './passwords.ts';
import { invitations, orgs, users } from './schema.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  hasher: PasswordHasher;
  invitations: InvitationService;
  mail: InvitationMail;
}

const gone = () =>
  new AppError(
    'not_found',
    'this invitation link is not valid: it was used, withdrawn, replaced or has expired',
  );

/**
 * The mailed link: whoever holds its token controls the address it was sent to, so the token alone
 * accepts (creating the account when the address has none) or declines. One use; expiring.
 */
export function createInvitationLinks({ db, audit, hasher, invitations: service, mail }: Deps) {
  async function find(token: string) {
    const inv = await mail.byToken(db, token);
    if (!inv) throw gone();
    const [org] = await db.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, inv.orgId));
    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, inv.email));
    return { inv, orgName: org?.name ?? '', userId: user?.id ?? null };
  }

  /** Single use: the first answer moves the row out of pending; a second (or racing) use finds nothing. */
  async function claim(tx: DbOrTx, id: string, status: 'accepted' | 'declined') {
    const [row] = await tx
      .update(invitations)
      .set({ status, respondedAt: new Date(), tokenHash: null })
      .where(
        and(eq(invitations.id, id), eq(invitations.status, 'pending'), gt(invitations.expiresAt, new Date())),
      )
      .returning();
    if (!row) throw gone();
    return row;
  }

  return {
    /** What the link offers, for the page that asks to accept or decline. */
    async lookup(token: string) {
      const { inv, orgName, userId } = await find(token);
      return { invitation: inv, orgName, hasAccount: userId !== null };
    },

    async accept(
      token: string,
      input: { name?: string | undefined; password?: string | undefined },
      ctx: AuditContext,
    ) {
      const { inv, userId } = await find(token);
      let passwordHash: string | null = null;
      if (!userId) {
        if (!input.password)
          throw new AppError(
            'unprocessable',
            'this address has no account yet: choose a password',
            undefined,
            {
              param: 'password',
            },
          );
        assertPasswordPolicy(input.password, inv.email);
        passwordHash = await hasher.hash(input.password);
      }
      return db.transaction(async (tx) => {
        const live = await claim(tx, inv.id, 'accepted');
        let id = userId;
        if (!id) {
          const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, inv.email));
          if (existing) id = existing.id;
          else {
            const [user] = await tx
              .insert(users)
              .values({
                id: newId('usr'),
                email: inv.email,
                name: input.name ?? null,
                passwordHash: passwordHash!,
              })
              .returning();
            id = user!.id;
            await audit.append(tx, asUser(ctx, id), {
              orgId: inv.orgId,
              action: 'user.create',
              target: { type: 'user', id },
              after: { email: inv.email, name: input.name ?? null, via: 'invitation' },
            });
          }
        }
        await service.join(tx, live, id, ctx);
        return { invitation: { ...live, status: 'accepted' as const }, userId: id, accountCreated: !userId };
      });
    },

    async decline(token: string, ctx: AuditContext) {
      const { inv } = await find(token);
      return db.transaction(async (tx) => {
        const live = await claim(tx, inv.id, 'declined');
        await audit.append(tx, ctx, {
          orgId: live.orgId,
          action: 'invitation.decline',
          target: { type: 'invitation', id: live.id },
        });
        return { ...live, status: 'declined' as const };
      });
    },
  };
}

export type InvitationLinks = ReturnType<typeof createInvitationLinks>;
