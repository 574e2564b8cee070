import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { OutboundPolicy } from '@maas/outbound';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import type { PermissionName } from '../../http/permissions.ts';
import type { AuditService } from '../audit/index.ts';
import type { JobEngine } from '../jobs/index.ts';
import { createAssignmentService } from './access/assignment-service.ts';
import { loadGrant, memberHolds } from './access/grant.ts';
import { createKeyGrants, type KeyRecord } from './access/key-grant.ts';
import { createRoleService } from './access/role-service.ts';
import { createAuthService } from './auth-service.ts';
import { bootstrapFirstStart } from './bootstrap.ts';
import { createInvitationService } from './invitation-service.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createIdentityMail } from './mail/index.ts';
import { createMemberService } from './member-service.ts';
import { createLoginChallenges } from './mfa/login-challenges.ts';
import { createMfaAccount } from './mfa/mfa-account.ts';
import { createMfaLogin } from './mfa/mfa-login.ts';
import { createMfaService } from './mfa/mfa-service.ts';
import { createPasskeyAccount } from './mfa/passkey-account.ts';
import { createPasskeys } from './mfa/passkeys.ts';
import { createOrgService } from './org-service.ts';
import { createPasswordHasher } from './passwords.ts';
import { createProjectService } from './project-service.ts';
import { createSessionService } from './session-service.ts';
import { createCliSignIn } from './sso/cli-sign-in.ts';
import { createOidcClients } from './sso/oidc-client.ts';
import { createIdentityProviderService } from './sso/provider-service.ts';
import { createSsoAccountService } from './sso/sso-account.ts';
import { createSsoLoginService } from './sso/sso-login-service.ts';

export interface IdentityDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  config: Config;
  log: Logger;
  /** seals identity providers' client secrets and TOTP secrets */
  secrets: SecretBox;
  /** issuer discovery and token calls to identity providers go through it */
  outbound: OutboundPolicy;
  /** login throttling counters shared by every replica; in-process without it */
  redis?: Redis | undefined;
  /** mails invitation links */
  jobs: JobEngine;
}

export function createIdentityService(deps: IdentityDeps) {
  const { config } = deps;
  const hasher = createPasswordHasher({
    concurrency: config.passwordHash.concurrency ?? Math.max(2, Math.floor(availableParallelism() / 2)),
    maxQueue: config.passwordHash.maxQueue,
  });
  const throttle = createLoginThrottle({
    failuresPerAccount: config.login.maxFailures,
    failuresPerAddress: config.login.maxFailuresPerAddress,
    lockoutBaseS: config.login.lockoutS,
    lockoutMaxS: 3600,
    redis: deps.redis,
    // replicas share MAAS_SECRET_KEY: other deployments (and test servers) on the same Redis do not
    namespace: createHash('sha256')
      .update(config.secretKey)
      .update('login-throttle')
      .digest('hex')
      .slice(0, 12),
  });
  const mail = createIdentityMail({ ...deps, secretKey: config.secretKey });
  const invitations = createInvitationService({ ...deps, mail: mail.invitationMail });
  const sessions = createSessionService(deps);
  const mfa = createMfaService(deps);
  const passkeys = createPasskeys(deps);
  const challenges = createLoginChallenges(deps);
  const auth = createAuthService({
    ...deps,
    hasher,
    throttle,
    invitations,
    sessionService: sessions,
    mfa,
    challenges,
  });
  const oidc = createOidcClients(deps);
  const identityProviders = createIdentityProviderService({ ...deps, oidc });
  const sso = createSsoLoginService({
    ...deps,
    oidc,
    providers: identityProviders,
    accounts: createSsoAccountService(deps),
    auth,
    cliSignIn: createCliSignIn({ ...deps, auth }),
  });
  const orgs = createOrgService(deps);
  const projects = createProjectService({ ...deps, orgs });
  const members = createMemberService({ ...deps, hasher, invitations });
  const roles = createRoleService(deps);
  return {
    ...mail.selfService(invitations, hasher),
    auth,
    orgs,
    projects,
    members,
    invitations,
    sessions,
    hasher,
    identityProviders,
    sso,
    mfaLogin: createMfaLogin({ ...deps, auth, mfa, passkeys, challenges, throttle }),
    mfaAccount: createMfaAccount({ ...deps, mfa, throttle }),
    passkeyAccount: createPasskeyAccount({ ...deps, mfa, passkeys }),
    roles,
    assignments: createAssignmentService({ ...deps, roles }),
    /** the session's user, with the permissions of its org role and project roles */
    verifyAccessToken: async (token: string) => {
      const p = await auth.verifyAccessToken(token);
      return { ...p, permissions: await loadGrant(deps.db, p.orgId, p.userId, p.role) };
    },
    keyGrants: (keyOf: (orgId: string, id: string) => Promise<KeyRecord>) =>
      createKeyGrants({ db: deps.db, keyOf }),
    /** whether the user, as they are now, holds the permission in the project */
    memberHolds: (orgId: string, userId: string, projectId: string, permission: PermissionName) =>
      memberHolds(deps.db, orgId, userId, projectId, permission),
    requireProject: projects.requireProject,
    projectInOrg: (orgId: string, id: string) =>
      projects.requireProject(deps.db, orgId, id).then(
        () => true,
        () => false,
      ),
    bootstrap: (announce: (line: string) => void) => bootstrapFirstStart({ ...deps, hasher }, announce),
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
