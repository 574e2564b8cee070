import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.ts';
import { AppError } from '../../../http/app-error.ts';
import { memberships, orgs } from '../schema.ts';
import { identityProviders } from '../sso-schema.ts';

/**
 * A member of an org that requires single sign-on signs in only through an identity provider.
 * Platform admins keep their password (the way back in when a provider is down or misconfigured).
 * Checked only after the password was right, so it tells nothing to someone guessing.
 */
export async function assertPasswordSignInAllowed(
  db: DbOrTx,
  user: { id: string; isPlatformAdmin: boolean },
): Promise<void> {
  if (user.isPlatformAdmin) return;
  const [org] = await db
    .select({ id: orgs.id, name: orgs.name })
    .from(memberships)
    .innerJoin(orgs, eq(orgs.id, memberships.orgId))
    .where(and(eq(memberships.userId, user.id), eq(orgs.ssoRequired, true)))
    .limit(1);
  if (!org) return;
  const providers = await db
    .select({ slug: identityProviders.slug, name: identityProviders.name })
    .from(identityProviders)
    .where(eq(identityProviders.enabled, true));
  throw new AppError(
    'forbidden',
    `org "${org.name}" requires single sign-on: sign in with your identity provider, not a password`,
    { reason: 'sso_required', org_id: org.id, providers },
  );
}

/** An org cannot require SSO while no identity provider is turned on: nobody could sign in. */
export async function assertSomeIdentityProvider(db: DbOrTx): Promise<void> {
  const [one] = await db
    .select({ id: identityProviders.id })
    .from(identityProviders)
    .where(eq(identityProviders.enabled, true))
    .limit(1);
  if (!one)
    throw new AppError(
      'unprocessable',
      'no identity provider is turned on: a platform admin must configure one before SSO can be required',
      undefined,
      { param: 'sso_required' },
    );
}
