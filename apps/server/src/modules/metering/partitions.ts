import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';

const monthStart = (year: number, month: number) => new Date(Date.UTC(year, month, 1));
const partitionName = (d: Date) =>
  `usage_events_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;

/**
 * Keeps monthly partitions of usage_events: the last month, this one and the next two exist, and
 * months that ended more than `retentionDays` ago are dropped whole (cheap retention).
 */
export function createUsagePartitions({
  db,
  log,
  retentionDays,
}: {
  db: Db;
  log: Logger;
  retentionDays: number;
}) {
  async function ensure(now = new Date()): Promise<void> {
    for (let offset = -1; offset <= 2; offset++) {
      const from = monthStart(now.getUTCFullYear(), now.getUTCMonth() + offset);
      const to = monthStart(from.getUTCFullYear(), from.getUTCMonth() + 1);
      const name = partitionName(from);
      try {
        await db.execute(
          sql.raw(
            `create table if not exists "${name}" partition of usage_events for values from ('${from.toISOString()}') to ('${to.toISOString()}')`,
          ),
        );
      } catch (err) {
        // Rows for that month already sit in the default partition (written before it existed).
        log.warn(
          { err, partition: name },
          'could not create usage partition; rows stay in the default partition',
        );
      }
    }
  }

  async function dropExpired(now = new Date()): Promise<string[]> {
    const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
    const result = await db.execute(sql`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
      where p.relname = 'usage_events'`);
    const dropped: string[] = [];
    for (const row of (result as unknown as { rows: { name: string; bound: string }[] }).rows) {
      const upper = /TO \('([^']+)'\)/.exec(row.bound)?.[1];
      if (!upper || new Date(upper) > cutoff) continue;
      await db.execute(sql.raw(`drop table if exists "${row.name}"`));
      dropped.push(row.name);
    }
    await db.execute(sql`delete from usage_events_default where created_at < ${cutoff}`);
    if (dropped.length)
      log.info({ dropped, retention_days: retentionDays }, 'dropped expired usage partitions');
    return dropped;
  }

  return { ensure, dropExpired };
}
