import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { orgs } from '../identity/schema.ts';
import { openTestDatabase } from '../jobs/test-database.ts';
import { knowledgeChunks, vectorStoreFiles, vectorStores } from './schema.ts';
import { createPgVectorIndex } from './vector-index.ts';

/** pgvector search: exact scan and the partial HNSW index agree; the index serves its dimension. */
let database: Database;
let drop: () => Promise<void>;
const DIMS = 256;
const N = 300;

/** a deterministic pseudo-random unit vector */
function vectorOf(seed: number): number[] {
  let x = seed * 2654435761;
  const v = Array.from({ length: DIMS }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  });
  const norm = Math.hypot(...v);
  return v.map((n) => n / norm);
}

beforeAll(async () => {
  ({ database, drop } = await openTestDatabase());
  const { db } = database;
  await db.insert(orgs).values({ id: 'org_kb', name: 'kb', slug: 'kb' });
  await db.insert(vectorStores).values({
    id: 'vs_a',
    orgId: 'org_kb',
    projectId: 'prj_kb',
    embeddingModel: 'embed',
    dimensions: DIMS,
    chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
    retrieval: { ranker: 'auto', max_num_results: 10, score_threshold: 0 },
  });
  await db.insert(vectorStoreFiles).values({
    storeId: 'vs_a',
    fileId: 'file-a',
    orgId: 'org_kb',
    projectId: 'prj_kb',
    filename: 'a.txt',
    chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
    status: 'completed',
    chunkCount: N,
  });
  const index = createPgVectorIndex();
  await db.transaction((tx) =>
    index.replaceFileChunks(
      tx,
      'vs_a',
      'file-a',
      Array.from({ length: N }, (_, i) => ({
        id: `kc_${String(i).padStart(4, '0')}`,
        position: i,
        text: `chunk ${i}`,
        tokens: 2,
        embedding: vectorOf(i + 1),
      })),
    ),
  );
}, 60_000);
afterAll(async () => drop?.());

describe('pgvector index', () => {
  it('finds the same nearest chunks by exact scan and by HNSW', async () => {
    const exact = createPgVectorIndex({ exactBelow: Number.POSITIVE_INFINITY });
    const hnsw = createPgVectorIndex({ exactBelow: 0 });
    const q = { storeIds: ['vs_a'], vector: vectorOf(42), limit: 5 };
    const a = await exact.search(database.db, q);
    const b = await hnsw.search(database.db, q);
    expect(a[0]).toMatchObject({ chunkId: 'kc_0041' });
    expect(a[0]!.score).toBeCloseTo(1, 5);
    expect(b.map((h) => h.chunkId)).toEqual(a.map((h) => h.chunkId));
  });

  it('plans the approximate query on the partial HNSW index of its dimension', async () => {
    const literal = `[${vectorOf(7).join(',')}]`;
    const rows = await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return tx.execute(
        sql`explain select id from ${knowledgeChunks} where dims = 256 order by (embedding::vector(256)) <=> ${literal}::vector(256) limit 5`,
      );
    });
    const plan = JSON.stringify((rows as unknown as { rows?: unknown[] }).rows ?? rows);
    expect(plan).toContain('knowledge_chunks_hnsw_256');
  });

  it('replaces a file’s chunks instead of adding to them', async () => {
    const index = createPgVectorIndex();
    const removed = await database.db.transaction((tx) =>
      index.replaceFileChunks(tx, 'vs_a', 'file-a', [
        { id: 'kc_new', position: 0, text: 'only', tokens: 1, embedding: vectorOf(1) },
      ]),
    );
    expect(removed).toHaveLength(N);
    expect(await index.chunkIdsOf(database.db, 'vs_a', 'file-a')).toEqual(['kc_new']);
  });
});
