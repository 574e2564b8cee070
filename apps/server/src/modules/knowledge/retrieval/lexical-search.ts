import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.ts';
import { tokenizeForIndex } from './tokenize.ts';

/** Okapi BM25 parameters (Robertson et al.; the values Lucene and Elasticsearch default to) */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
const K1 = sql.raw(BM25_K1.toFixed(4));
const K1_PLUS_1 = sql.raw((BM25_K1 + 1).toFixed(4));
const B = sql.raw(BM25_B.toFixed(4));
/** a longer query keeps its most frequent terms */
const MAX_QUERY_TERMS = 64;

/** A query's distinct terms with their counts (a term said twice weighs twice). */
export function queryTerms(query: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of tokenizeForIndex(query)) counts.set(term, (counts.get(term) ?? 0) + 1);
  if (counts.size <= MAX_QUERY_TERMS) return counts;
  return new Map([...counts].sort((a, b) => b[1] - a[1]).slice(0, MAX_QUERY_TERMS));
}

/**
 * BM25 over the stores' term index, computed in SQL:
 *   score(c) = Σ_t qtf(t) · idf(t) · tf(t,c)·(k1+1) / (tf(t,c) + k1·(1 − b + b·len(c)/avglen))
 *   idf(t)   = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
 * (Okapi's idf in the non-negative form Lucene uses). N, avglen and df are taken over all the
 * searched stores together, so the scores of several stores are comparable. Best first.
 */
export async function lexicalSearch(
  db: DbOrTx,
  storeIds: string[],
  query: string,
  limit: number,
): Promise<{ chunkId: string; score: number }[]> {
  const terms = queryTerms(query);
  if (terms.size === 0 || storeIds.length === 0 || limit <= 0) return [];
  const stores = sql.join(
    storeIds.map((s) => sql`${s}`),
    sql`, `,
  );
  const termList = sql.join(
    [...terms.keys()].map((t) => sql`${t}`),
    sql`, `,
  );
  const queryRows = sql.join(
    [...terms].map(([t, n]) => sql`(${t}::text, ${n}::float8)`),
    sql`, `,
  );
  const result = (await db.execute(sql`
    with q(term, qtf) as (values ${queryRows}),
    corpus as (
      select sum(doc_count)::float8 as n,
             sum(total_length)::float8 / greatest(sum(doc_count), 1)::float8 as avglen
      from knowledge_term_stats where store_id in (${stores})
    ),
    dfs as (
      select term, sum(df)::float8 as df from knowledge_term_df
      where store_id in (${stores}) and term in (${termList})
      group by term
    )
    select p.chunk_id as "chunkId",
           sum(q.qtf * ln(1 + (c.n - d.df + 0.5) / (d.df + 0.5))
               * p.tf::float8 * ${K1_PLUS_1}
               / (p.tf::float8 + ${K1} * (1 - ${B} + ${B} * p.chunk_length::float8 / greatest(c.avglen, 1e-9)))) as score
    from knowledge_term_postings p
    join q on q.term = p.term
    join dfs d on d.term = p.term
    cross join corpus c
    where p.store_id in (${stores}) and p.term in (${termList})
    group by p.chunk_id
    order by score desc, p.chunk_id
    limit ${Math.floor(limit)}
  `)) as unknown as { rows: { chunkId: string; score: number | string }[] };
  return result.rows.map((r) => ({ chunkId: r.chunkId, score: Number(r.score) }));
}
