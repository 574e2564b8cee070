import type { RunQuery } from '../db/schema-level.ts';

/** Rows per table of maas's own schema (top-level tables: a partitioned table counts its partitions). */
export async function countRows(query: RunQuery): Promise<Record<string, number>> {
  const tables = await query(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition order by c.relname`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const ident = `"${String(name).replace(/"/g, '""')}"`;
    const [row] = await query(`select count(*)::bigint as n from public.${ident}`);
    counts[String(name)] = Number(row?.n ?? 0);
  }
  return counts;
}

/** Tables whose counts differ: `table: expected → found`. */
export function diffCounts(expected: Record<string, number>, found: Record<string, number>): string[] {
  const names = new Set([...Object.keys(expected), ...Object.keys(found)]);
  return [...names]
    .filter((t) => expected[t] !== found[t])
    .map((t) => `${t}: ${expected[t] ?? 'absent'} → ${found[t] ?? 'absent'}`);
}
