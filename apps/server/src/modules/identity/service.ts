import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import type { AuditService } from '../audit/index.ts';
import { createAuthService } from './auth-service.ts';
import { bootstrapFirstStart } from './bootstrap.ts';
import { createInvitationService } from './invitation-service.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createMemberService } from './member-service.ts';
import { createOrgService } from './org-service.ts';
import { createPasswordHasher } from './passwords.ts';
import { createProjectService } from './project-service.ts';
import { createSessionService } from './session-service.ts';

export interface IdentityDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  config: Config;
  log: Logger;
  /** login throttling counters shared by every replica; in-process without it */
  redis?: Redis | undefined;
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
  const invitations = createInvitationService(deps);
  const sessions = createSessionService(deps);
  const auth = createAuthService({ ...deps, hasher, throttle, invitations, sessionService: sessions });
  const orgs = createOrgService(deps);
  const projects = createProjectService({ ...deps, orgs });
  const members = createMemberService({ ...deps, hasher, invitations });
  return {
    auth,
    orgs,
    projects,
    members,
    invitations,
    sessions,
    hasher,
    verifyAccessToken: auth.verifyAccessToken,
    requireProject: projects.requireProject,
    bootstrap: (announce: (line: string) => void) => bootstrapFirstStart({ ...deps, hasher }, announce),
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
