import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../db/client.ts';
import { openTestDatabase } from '../../jobs/test-database.ts';
import { indexChunkTerms, removeChunkTerms } from './index-terms.ts';
import { lexicalSearch } from './lexical-search.ts';

let database: Database;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ database, drop } = await openTestDatabase());
}, 120_000);
afterAll(async () => drop?.());

async function stats(storeId: string) {
  const r = (await database.db.execute(sql`
    select s.doc_count::int as "docCount", s.total_length::int as "totalLength",
      (select count(*)::int from knowledge_chunk_lengths l where l.store_id = s.store_id) as "lengthRows",
      (select coalesce(sum(length), 0)::int from knowledge_chunk_lengths l where l.store_id = s.store_id) as "lengthSum"
    from knowledge_term_stats s where s.store_id = ${storeId}`)) as unknown as {
    rows: { docCount: number; totalLength: number; lengthRows: number; lengthSum: number }[];
  };
  return r.rows[0];
}

/** terms whose document frequency differs from the count of their postings (none when exact) */
async function dfMismatches(storeId: string): Promise<number> {
  const r = (await database.db.execute(sql`
    select count(*)::int as n from (
      select term, count(*)::int as n from knowledge_term_postings where store_id = ${storeId} group by term
    ) p full join (select term, df from knowledge_term_df where store_id = ${storeId}) d using (term)
    where p.n is distinct from d.df`)) as unknown as { rows: { n: number }[] };
  return r.rows[0]?.n ?? -1;
}

/*
 * The corpus of store vs_a (index terms after stemming):
 *   a1 "apple banana apple"         → appl×2, banana        length 3
 *   a2 "banana cherry"              → banana, cherri        length 2
 *   a3 "cherry date elderberry fig" → cherri, date, elderberri, fig   length 4
 * N = 3, avglen = 9/3 = 3, k1 = 1.2, b = 0.75, idf = ln(1 + (N − df + 0.5)/(df + 0.5)).
 */
describe('lexicalSearch (BM25)', () => {
  beforeAll(async () => {
    await indexChunkTerms(database.db, 'vs_a', [
      { id: 'a1', text: 'apple banana apple' },
      { id: 'a2', text: 'banana cherry' },
      { id: 'a3', text: 'cherry date elderberry fig' },
    ]);
    await indexChunkTerms(database.db, 'vs_b', [{ id: 'b1', text: 'apple pie' }]);
  });

  it('scores one term as computed by hand', async () => {
    // apple: df 1, idf = ln(1 + 2.5/1.5) = 0.980829; a1: tf 2, len 3 = avglen → norm 1
    // 0.980829 · 2·2.2 / (2 + 1.2·1) = 0.980829 · 1.375 = 1.348640
    expect(await lexicalSearch(database.db, ['vs_a'], 'apple', 10)).toEqual([
      { chunkId: 'a1', score: expect.closeTo(1.34864, 5) },
    ]);
  });

  it('sums over query terms and normalises by length, as computed by hand', async () => {
    // banana, cherry: df 2 each, idf = ln(1 + 1.5/2.5) = ln 1.6 = 0.470004
    // a2: len 2, norm 0.25 + 0.75·2/3 = 0.75, each term 2.2/(1 + 0.9) = 1.157895 → 2 · 0.470004 · 1.157895 = 1.088431
    // a1: banana only, norm 1, 2.2/2.2 = 1 → 0.470004
    // a3: cherry only, len 4, norm 1.25, 2.2/(1 + 1.5) = 0.88 → 0.413604
    const hits = await lexicalSearch(database.db, ['vs_a'], 'Banana cherries!', 10);
    expect(hits.map((h) => h.chunkId)).toEqual(['a2', 'a1', 'a3']);
    expect(hits[0]?.score).toBeCloseTo(1.088431, 5);
    expect(hits[1]?.score).toBeCloseTo(0.470004, 5);
    expect(hits[2]?.score).toBeCloseTo(0.413604, 5);
  });

  it('a repeated query term weighs twice', async () => {
    const [once] = await lexicalSearch(database.db, ['vs_a'], 'apple', 1);
    const [twice] = await lexicalSearch(database.db, ['vs_a'], 'apple apples', 1);
    expect(twice?.score).toBeCloseTo(2 * (once?.score ?? 0), 9);
  });

  it('searches only the stores asked for; several stores share one N and avglen', async () => {
    expect((await lexicalSearch(database.db, ['vs_b'], 'apple', 10)).map((h) => h.chunkId)).toEqual(['b1']);
    // vs_a + vs_b: N = 4, avglen = 11/4, apple df 2 → idf = ln(1 + 2.5/2.5) = ln 2
    // b1: tf 1, len 2 → norm 0.25 + 0.75·2/2.75 = 0.795455 → 2.2/(1 + 0.954545) = 1.125581 → 0.780194
    // a1: tf 2, len 3 → norm 0.25 + 0.75·3/2.75 = 1.068182 → 4.4/(2 + 1.281818) = 1.340720 → 0.929318
    const both = await lexicalSearch(database.db, ['vs_a', 'vs_b'], 'apple', 10);
    expect(both.map((h) => h.chunkId)).toEqual(['a1', 'b1']);
    expect(both[0]?.score).toBeCloseTo(0.929318, 5);
    expect(both[1]?.score).toBeCloseTo(0.780194, 5);
  });

  it('finds nothing for stop words, unknown terms or no stores', async () => {
    expect(await lexicalSearch(database.db, ['vs_a'], 'the of and', 10)).toEqual([]);
    expect(await lexicalSearch(database.db, ['vs_a'], 'zebra', 10)).toEqual([]);
    expect(await lexicalSearch(database.db, [], 'apple', 10)).toEqual([]);
    expect(await lexicalSearch(database.db, ['vs_nope'], 'apple', 10)).toEqual([]);
  });

  it('removal and re-indexing keep N, lengths and scores exact', async () => {
    await indexChunkTerms(database.db, 'vs_c', [
      { id: 'c1', text: 'apple banana apple' },
      { id: 'c2', text: 'banana cherry' },
      { id: 'c3', text: 'cherry date elderberry fig' },
    ]);
    await removeChunkTerms(database.db, 'vs_c', ['c1', 'c1', 'never-indexed']);
    // N = 2, avglen = 6/2 = 3, banana df 1: idf = ln(1 + 1.5/1.5) = ln 2; c2 norm 0.75 → 0.693147 · 1.157895 = 0.802591
    const hits = await lexicalSearch(database.db, ['vs_c'], 'banana', 10);
    expect(hits).toEqual([{ chunkId: 'c2', score: expect.closeTo(0.802591, 5) }]);
    // re-indexing c3 with new text replaces its terms and length
    await indexChunkTerms(database.db, 'vs_c', [{ id: 'c3', text: 'grape' }]);
    expect(await lexicalSearch(database.db, ['vs_c'], 'fig', 10)).toEqual([]);
    expect(await stats('vs_c')).toEqual({ docCount: 2, totalLength: 3, lengthRows: 2, lengthSum: 3 });
    expect(await dfMismatches('vs_c')).toBe(0);
  });

  it('finds Chinese text by a word inside a longer word', async () => {
    await indexChunkTerms(database.db, 'vs_zh', [
      { id: 'z1', text: '床前明月光，疑是地上霜。举头望明月，低头思故乡。' },
      { id: 'z2', text: '白日依山尽，黄河入海流。' },
      { id: 'z3', text: 'PostgreSQL 全文检索与向量检索' },
    ]);
    expect((await lexicalSearch(database.db, ['vs_zh'], '月光下思念故乡', 10)).map((h) => h.chunkId)).toEqual(
      ['z1'],
    );
    expect((await lexicalSearch(database.db, ['vs_zh'], '黄河', 10)).map((h) => h.chunkId)).toEqual(['z2']);
    expect((await lexicalSearch(database.db, ['vs_zh'], 'postgresql 检索', 10))[0]?.chunkId).toBe('z3');
  });
});

describe('concurrent indexing', () => {
  it('keeps the store statistics exact when files are indexed and removed at once', async () => {
    const store = 'vs_concurrent';
    const file = (f: number) =>
      Array.from({ length: 20 }, (_, i) => ({
        id: `f${f}-c${i}`,
        text: `word${i} shared file${f} `.repeat(1 + (i % 4)),
      }));
    // 12 files at once, and file 3 indexed 5 more times at the same moment (each replaces the last)
    await Promise.all([
      ...Array.from({ length: 12 }, (_, f) => indexChunkTerms(database.db, store, file(f))),
      ...Array.from({ length: 5 }, () => indexChunkTerms(database.db, store, file(3))),
    ]);
    expect(await dfMismatches(store)).toBe(0);
    let s = await stats(store);
    expect(s).toEqual({ docCount: 240, totalLength: s?.lengthSum, lengthRows: 240, lengthSum: s?.lengthSum });
    // removals of the same chunks racing each other, and with new indexing
    await Promise.all([
      removeChunkTerms(
        database.db,
        store,
        file(0).map((c) => c.id),
      ),
      removeChunkTerms(
        database.db,
        store,
        file(0).map((c) => c.id),
      ),
      removeChunkTerms(
        database.db,
        store,
        file(1).map((c) => c.id),
      ),
      indexChunkTerms(database.db, store, file(12)),
    ]);
    s = await stats(store);
    expect(s?.docCount).toBe(220);
    expect(s?.lengthRows).toBe(220);
    expect(s?.totalLength).toBe(s?.lengthSum);
    // every chunk has length 3 × repeats: 5 × (3 + 6 + 9 + 12) per file of 20
    expect(s?.lengthSum).toBe(11 * 150);
    expect(await dfMismatches(store)).toBe(0);
  }, 60_000);
});
