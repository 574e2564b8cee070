import type { KeyScope, Role } from '@maas/contracts';

/**
 * The one catalogue of named permissions. `level` is the built-in role that first holds it: the
 * built-in roles are templates (a role holds every permission at or below its level), and a custom
 * role is any subset of the catalogue.
 */
export const LEVELS = ['viewer', 'operator', 'admin', 'owner'] as const satisfies readonly Role[];

const catalogue = {
  'org:read': { area: 'org', level: 'viewer', description: 'See the org and its settings' },
  'org:write': { area: 'org', level: 'admin', description: 'Rename the org and change its policies' },
  'org:delete': { area: 'org', level: 'owner', description: 'Delete the org' },
  'members:read': { area: 'members', level: 'viewer', description: 'See members and invitations' },
  'members:write': {
    area: 'members',
    level: 'admin',
    description: 'Invite, remove and change the roles of members (org and project)',
  },
  'roles:read': { area: 'roles', level: 'viewer', description: 'See roles and effective permissions' },
  'roles:write': { area: 'roles', level: 'admin', description: 'Create, change and delete custom roles' },
  'projects:read': { area: 'projects', level: 'viewer', description: 'See projects' },
  'projects:write': {
    area: 'projects',
    level: 'operator',
    description: 'Create, change and delete projects',
  },
  'keys:read': { area: 'keys', level: 'viewer', description: 'See API keys (never their secrets)' },
  'keys:write': { area: 'keys', level: 'operator', description: 'Create, rotate and revoke API keys' },
  'limits:read': {
    area: 'limits',
    level: 'viewer',
    description: 'See limits, their usage and notifications',
  },
  'limits:write': { area: 'limits', level: 'operator', description: 'Create, change and delete limits' },
  'usage:read': { area: 'billing', level: 'viewer', description: 'See usage' },
  'prices:read': { area: 'billing', level: 'viewer', description: 'See the price book' },
  'prices:write': { area: 'billing', level: 'operator', description: 'Change the price book' },
  'bills:read': { area: 'billing', level: 'viewer', description: 'See bills' },
  'bills:write': { area: 'billing', level: 'operator', description: 'Generate bills' },
  'bills:finalize': { area: 'billing', level: 'admin', description: 'Finalize bills' },
  'audit:read': { area: 'audit', level: 'viewer', description: 'See and verify the audit log' },
  'providers:read': { area: 'providers', level: 'viewer', description: 'See providers' },
  'providers:write': { area: 'providers', level: 'operator', description: 'Add, change and test providers' },
  'models:read': { area: 'models', level: 'viewer', description: 'See models, versions, shares and cache' },
  'models:write': {
    area: 'models',
    level: 'operator',
    description: 'Change models, versions, traffic, shares and cache',
  },
  'guardrails:read': { area: 'guardrails', level: 'viewer', description: 'See guardrails' },
  'guardrails:write': { area: 'guardrails', level: 'operator', description: 'Change and attach guardrails' },
  'webhooks:read': { area: 'webhooks', level: 'viewer', description: 'See webhook endpoints and deliveries' },
  'webhooks:write': {
    area: 'webhooks',
    level: 'operator',
    description: 'Change webhook endpoints and replay deliveries',
  },
  'knowledge:read': {
    area: 'knowledge',
    level: 'viewer',
    description: 'See knowledge bases, their documents and chunks, and search them',
  },
  'knowledge:write': {
    area: 'knowledge',
    level: 'operator',
    description: 'Create, change, re-index and delete knowledge bases and their documents',
  },
  'deployments:read': { area: 'deployments', level: 'viewer', description: 'See deployments and replicas' },
  'deployments:write': {
    area: 'deployments',
    level: 'operator',
    description: 'Create, scale, roll out and delete deployments',
  },
} as const satisfies Record<string, { area: string; level: Role; description: string }>;

export type PermissionName = keyof typeof catalogue;
export const PERMISSIONS = Object.keys(catalogue) as PermissionName[];
export const permissionInfo = (name: PermissionName) => catalogue[name];
export const isPermissionName = (name: string): name is PermissionName => Object.hasOwn(catalogue, name);

const rank = (role: Role) => LEVELS.indexOf(role);

/** The permissions a built-in role holds. */
export function builtInPermissions(role: Role): PermissionName[] {
  return PERMISSIONS.filter((name) => rank(catalogue[name].level) <= rank(role));
}

/** Permissions a project role may carry: those of resources that belong to a project. */
export const PROJECT_SCOPED: ReadonlySet<PermissionName> = new Set([
  'projects:read',
  'projects:write',
  'keys:read',
  'keys:write',
  'limits:read',
  'limits:write',
  'usage:read',
  'knowledge:read',
  'knowledge:write',
]);

/**
 * The most an API key's scopes allow: `admin:read` the viewer's permissions, `admin:write` the
 * operator's. A key never manages members or roles, whatever its owner may do.
 */
export function scopePermissions(scopes: readonly KeyScope[]): PermissionName[] {
  if (scopes.includes('admin:write')) return builtInPermissions('operator');
  if (scopes.includes('admin:read')) return builtInPermissions('viewer');
  return [];
}

/**
 * What a caller holds: permissions in the whole org, and more in single projects (a project role).
 * An API key's grant is its owner's, narrowed to the key's project and scopes.
 */
export interface PermissionGrant {
  org: ReadonlySet<PermissionName>;
  projects: ReadonlyMap<string, ReadonlySet<PermissionName>>;
}

/** Does the grant hold some permission at `level` or above, anywhere (the coarse service checks)? */
export function holdsLevel(grant: PermissionGrant, level: Role): boolean {
  const atLeast = (set: ReadonlySet<PermissionName>) => {
    for (const name of set) if (rank(catalogue[name].level) >= rank(level)) return true;
    return false;
  };
  if (atLeast(grant.org)) return true;
  for (const set of grant.projects.values()) if (atLeast(set)) return true;
  return false;
}

export function grants(grant: PermissionGrant, name: PermissionName, projectId: string | null): boolean {
  if (grant.org.has(name)) return true;
  return projectId !== null && (grant.projects.get(projectId)?.has(name) ?? false);
}
