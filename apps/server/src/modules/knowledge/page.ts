import { and, asc, desc, gt, lt, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { ListQuery } from './wire.ts';

/** OpenAI's cursor lists: order by id, `after`/`before` an id of the previous page. */
export function pageOf(
  column: PgColumn,
  q: ListQuery,
): { where: SQL | undefined; orderBy: SQL; limit: number } {
  const forward = q.order === 'asc';
  const where = and(
    q.after ? (forward ? gt(column, q.after) : lt(column, q.after)) : undefined,
    q.before ? (forward ? lt(column, q.before) : gt(column, q.before)) : undefined,
  );
  return { where, orderBy: forward ? asc(column) : desc(column), limit: q.limit + 1 };
}

export function listPage<T extends { id: string }>(data: T[], hasMore: boolean) {
  return {
    object: 'list' as const,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}
