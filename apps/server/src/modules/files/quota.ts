import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { fileStorageUsage } from './schema.ts';

/**
 * Takes up to `want` bytes of the org's quota, locking its usage row so that concurrent uploads
 * (on any replica) are granted one after another and together never exceed `quota`. Returns the
 * bytes granted: 0 when the org has none left.
 */
export async function reserveQuota(tx: DbOrTx, orgId: string, want: number, quota: number): Promise<number> {
  await tx.insert(fileStorageUsage).values({ orgId, bytes: 0 }).onConflictDoNothing();
  const [usage] = await tx
    .select({ bytes: fileStorageUsage.bytes })
    .from(fileStorageUsage)
    .where(eq(fileStorageUsage.orgId, orgId))
    .for('update');
  const granted = Math.max(0, Math.min(want, quota - (usage?.bytes ?? 0)));
  if (granted > 0) await adjustUsage(tx, orgId, granted);
  return granted;
}

/** Adds `delta` (negative: gives back) to what the org holds. */
export async function adjustUsage(tx: DbOrTx, orgId: string, delta: number): Promise<void> {
  if (delta === 0) return;
  await tx
    .update(fileStorageUsage)
    .set({ bytes: sql`greatest(${fileStorageUsage.bytes} + ${delta}, 0)` })
    .where(eq(fileStorageUsage.orgId, orgId));
}

/** Bytes the org holds in files (uploads in flight included). */
export async function usedBytes(db: DbOrTx, orgId: string): Promise<number> {
  const [row] = await db
    .select({ bytes: fileStorageUsage.bytes })
    .from(fileStorageUsage)
    .where(eq(fileStorageUsage.orgId, orgId));
  return row?.bytes ?? 0;
}
