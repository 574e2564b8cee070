import { z } from 'zod';

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export type ListQuery = z.infer<typeof listQuery>;

/** Rows are fetched with `limit + 1`; the extra row tells whether there is a next page. */
export function page<T extends { id: string }>(
  rows: T[],
  limit: number,
): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  const next = rows.length > limit ? (data[data.length - 1]?.id ?? null) : null;
  return { data, next_cursor: next };
}

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });
