import type { KeyScope, Role } from '@maas/contracts';
import type { FastifyRequest } from 'fastify';
import { AppError } from './app-error.ts';
import { holdsLevel, type PermissionGrant } from './permissions.ts';

export type { KeyScope, Role };

export interface UserPrincipal {
  kind: 'user';
  userId: string;
  email: string;
  orgId: string;
  role: Role;
  isPlatformAdmin: boolean;
  sessionId: string;
  /** named permissions from the org role (built-in or custom) and project roles */
  permissions?: PermissionGrant;
}

export interface KeyPrincipal {
  kind: 'key';
  keyId: string;
  orgId: string;
  projectId: string;
  scopes: KeyScope[];
  /** null: every model the project may use */
  models: string[] | null;
  /** set on admin routes: the scopes narrowed to what the key's owner may do in its project */
  permissions?: PermissionGrant;
  /** the user who created the key: a user's keys share the user's limits (absent: created by a key) */
  ownerUserId?: string | null;
}

export type Principal = UserPrincipal | KeyPrincipal;

/**
 * What a caller may do in its org. viewer reads; operator also writes resources; admin also manages
 * members; only an owner deletes the org. An API key with `admin:read` acts as a viewer and one with
 * `admin:write` as an operator: a key never manages members.
 */
export type Permission = 'read' | 'write' | 'manage_members' | 'delete_org';

const grants: Record<Role, Permission[]> = {
  viewer: ['read'],
  operator: ['read', 'write'],
  admin: ['read', 'write', 'manage_members'],
  owner: ['read', 'write', 'manage_members', 'delete_org'],
};

export function effectiveRole(p: Principal): Role | null {
  if (p.kind === 'user') return p.role;
  if (p.scopes.includes('admin:write')) return 'operator';
  if (p.scopes.includes('admin:read')) return 'viewer';
  return null;
}

const levelOf: Record<Permission, Role> = {
  read: 'viewer',
  write: 'operator',
  manage_members: 'admin',
  delete_org: 'owner',
};

/**
 * The coarse check services make. With named permissions (admin routes) it asks whether the caller
 * holds any permission of that level: the route's own named permission is checked before the handler.
 */
export function can(p: Principal, permission: Permission): boolean {
  if (p.permissions) return holdsLevel(p.permissions, levelOf[permission]);
  const role = effectiveRole(p);
  return role !== null && grants[role].includes(permission);
}

export function requirePermission(p: Principal, permission: Permission): void {
  if (!can(p, permission)) {
    throw new AppError('forbidden', `your role may not ${permission.replace('_', ' ')} in this org`);
  }
}

/** The authenticated caller of an admin route (set by the authenticate hook). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('unauthenticated', 'authentication required');
  return req.principal;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}
