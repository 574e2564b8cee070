import type { FastifyInstance } from 'fastify';
import type { Db } from '../../../db/client.ts';
import type { KeyService } from '../../keys/index.ts';
import type { IdentityService } from '../service.ts';
import { authRoutes } from './auth.ts';
import { identityProviderRoutes } from './identity-providers.ts';
import { invitationRoutes } from './invitations.ts';
import { memberRoutes } from './members.ts';
import { mfaRoutes } from './mfa.ts';
import { orgRoutes } from './orgs.ts';
import { passkeyRoutes } from './passkeys.ts';
import { projectRoutes } from './projects.ts';
import { roleRoutes } from './roles.ts';
import { selfServiceRoutes } from './self-service.ts';
import { sessionRoutes } from './sessions.ts';
import { ssoRoutes } from './sso.ts';

/** Everything the identity routes use; each plugin below takes only its part. */
export interface IdentityRouteDeps {
  identity: IdentityService;
  keys: Pick<KeyService, 'list'>;
  db: Db;
  refreshTokenTtlS: number;
}

export async function identityRoutes(app: FastifyInstance, opts: IdentityRouteDeps) {
  await app.register(authRoutes, opts);
  await app.register(sessionRoutes, opts);
  await app.register(orgRoutes, opts);
  await app.register(projectRoutes, opts);
  await app.register(memberRoutes, opts);
  await app.register(roleRoutes, opts);
  await app.register(invitationRoutes, opts);
  await app.register(selfServiceRoutes, opts);
  await app.register(identityProviderRoutes, opts);
  await app.register(ssoRoutes, opts);
  await app.register(mfaRoutes, opts);
  await app.register(passkeyRoutes, opts);
}
