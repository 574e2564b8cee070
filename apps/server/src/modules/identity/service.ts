import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import type { AuditService } from '../audit/index.ts';
import { createAuthService } from './auth-service.ts';
import { bootstrapFirstStart } from './bootstrap.ts';
import { createMemberService } from './member-service.ts';
import { createOrgService } from './org-service.ts';
import { createProjectService } from './project-service.ts';

export interface IdentityDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  config: Config;
  log: Logger;
}

export function createIdentityService(deps: IdentityDeps) {
  const auth = createAuthService(deps);
  const orgs = createOrgService(deps);
  const projects = createProjectService({ ...deps, orgs });
  const members = createMemberService(deps);
  return {
    auth,
    orgs,
    projects,
    members,
    verifyAccessToken: auth.verifyAccessToken,
    requireProject: projects.requireProject,
    bootstrap: (announce: (line: string) => void) => bootstrapFirstStart(deps, announce),
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
