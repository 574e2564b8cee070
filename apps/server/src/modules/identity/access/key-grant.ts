import { and, eq } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { type PermissionGrant, type PermissionName, scopePermissions } from '../../../http/permissions.ts';
import type { KeyPrincipal, KeyScope } from '../../../http/principal.ts';
import { memberships } from '../schema.ts';
import { loadGrant, permissionsIn } from './grant.ts';

export interface KeyRecord {
  createdBy: string | null;
  projectId: string;
  /** as stored: names outside KEY_SCOPES grant nothing */
  scopes: readonly string[];
}

/** A key made by a key is bounded by that key too; past this many hops it grants nothing. */
const MAX_CHAIN = 4;

/**
 * What an API key may do on admin routes: its scopes, narrowed to what its creator may do in the
 * key's project now (a creator who left the org, or lost a role, takes the key's power with them).
 * Keys from before creators were recorded hold their scopes.
 */
export function createKeyGrants(deps: { db: Db; keyOf: (orgId: string, id: string) => Promise<KeyRecord> }) {
  const { db, keyOf } = deps;

  async function creatorAllows(
    orgId: string,
    projectId: string,
    createdBy: string | null,
    hops: number,
  ): Promise<Set<PermissionName> | null> {
    if (createdBy === null) return null;
    if (hops >= MAX_CHAIN) return new Set<PermissionName>();
    if (createdBy.startsWith('usr_')) {
      const [m] = await db
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, createdBy)));
      if (!m) return new Set<PermissionName>();
      return permissionsIn(await loadGrant(db, orgId, createdBy, m.role), projectId);
    }
    if (createdBy.startsWith('key_')) {
      const parent = await keyOf(orgId, createdBy).catch(() => null);
      if (!parent) return new Set<PermissionName>();
      const above = await creatorAllows(orgId, projectId, parent.createdBy, hops + 1);
      return new Set(
        scopePermissions(parent.scopes as KeyScope[]).filter((n) => above === null || above.has(n)),
      );
    }
    return new Set<PermissionName>();
  }

  return async function keyGrant(key: KeyPrincipal): Promise<PermissionGrant> {
    const record = await keyOf(key.orgId, key.keyId);
    const allowed = await creatorAllows(key.orgId, record.projectId, record.createdBy, 0);
    const own = scopePermissions(key.scopes).filter((name) => allowed === null || allowed.has(name));
    return { org: new Set(own), projects: new Map() };
  };
}
