import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { newId } from '../../ids.ts';
import { type AuditService, systemActor } from '../audit/index.ts';
import type { PasswordHasher } from './passwords.ts';
import { memberships, orgs, projects, users } from './schema.ts';

/**
 * The first start creates org `default`, project `default` and the owner MAAS_ADMIN_EMAIL. Without
 * MAAS_ADMIN_PASSWORD a password is generated and announced this once. Replicas starting together
 * take an advisory lock so only one of them does it.
 */
export async function bootstrapFirstStart(
  { db, audit, config, hasher }: { db: Db; audit: AuditService; config: Config; hasher: PasswordHasher },
  announce: (line: string) => void,
): Promise<void> {
  // Every later start ends here: hashing the password (Argon2, ~0.1 s of CPU and tens of MB) is for the first.
  const [existing] = await db.select({ id: users.id }).from(users).limit(1);
  if (existing) return;
  const generated = config.adminPassword ? undefined : randomBytes(12).toString('base64url');
  const passwordHash = await hasher.hash(config.adminPassword ?? generated!);
  const created = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('maas:bootstrap'))`);
    const [anyUser] = await tx.select({ id: users.id }).from(users).limit(1);
    if (anyUser) return false;
    const orgId = newId('org');
    const userId = newId('usr');
    await tx.insert(orgs).values({ id: orgId, name: 'Default', slug: 'default' });
    await tx.insert(projects).values({ id: newId('prj'), orgId, name: 'default' });
    await tx.insert(users).values({
      id: userId,
      email: config.adminEmail.toLowerCase(),
      name: 'Administrator',
      passwordHash,
      isPlatformAdmin: true,
    });
    await tx.insert(memberships).values({ id: newId('mem'), orgId, userId, role: 'owner' });
    await audit.append(tx, systemActor(), {
      orgId,
      action: 'system.bootstrap',
      target: { type: 'user', id: userId },
      after: { email: config.adminEmail, org: 'default', project: 'default' },
    });
    return true;
  });
  if (created && generated) {
    announce(
      `maas: created owner ${config.adminEmail} with password ${generated} (shown only this once; set MAAS_ADMIN_PASSWORD to choose it)`,
    );
  } else if (created) {
    announce(`maas: created owner ${config.adminEmail} (password from MAAS_ADMIN_PASSWORD)`);
  }
}
