import { and, or, type SQL, sql } from 'drizzle-orm';
import { vectorStoreFiles } from './schema.ts';
import type { ComparisonFilter, Filter } from './wire.ts';

const OPS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * OpenAI's attribute filters as SQL on the file's `attributes`: eq/ne compare JSON values (a string
 * never equals a number); gt/gte/lt/lte compare numbers with numbers and strings with strings (a
 * value of the other type does not match); in/nin test membership.
 */
export function filterToSql(f: Filter): SQL {
  if (f.type === 'and' || f.type === 'or') {
    const parts = f.filters.map(filterToSql);
    return (f.type === 'and' ? and(...parts) : or(...parts)) ?? sql`true`;
  }
  return comparison(f as ComparisonFilter);
}

function comparison(f: ComparisonFilter): SQL {
  const attr = sql`(${vectorStoreFiles.attributes} -> ${f.key})`;
  const json = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`;
  switch (f.type) {
    case 'eq':
      return sql`${attr} = ${json(f.value)}`;
    case 'ne':
      return sql`${attr} is distinct from ${json(f.value)}`;
    case 'in':
    case 'nin': {
      const values = Array.isArray(f.value) ? f.value : [f.value];
      const member = sql`coalesce(${json(values)} @> jsonb_build_array(${attr}), false)`;
      return f.type === 'in' ? member : sql`not ${member}`;
    }
    default: {
      const op = sql.raw(OPS[f.type]);
      if (typeof f.value === 'number')
        return sql`(jsonb_typeof(${attr}) = 'number' and (${attr})::numeric ${op} ${f.value})`;
      if (typeof f.value === 'string')
        return sql`(jsonb_typeof(${attr}) = 'string' and (${vectorStoreFiles.attributes} ->> ${f.key}) ${op} ${f.value})`;
      return sql`false`;
    }
  }
}
