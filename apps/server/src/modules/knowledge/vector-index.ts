import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { HNSW_DIMENSIONS, knowledgeChunks, vectorStoreFiles } from './schema.ts';

export interface ChunkInput {
  id: string;
  position: number;
  text: string;
  tokens: number;
  headings?: string[] | null;
  context?: string | null;
  embedding: number[];
}

export interface DenseHit {
  chunkId: string;
  /** cosine similarity, 1 - cosine distance */
  score: number;
}

/**
 * Where chunk vectors live and how they are searched. pgvector (in the same database, so chunks,
 * their terms and the file's state commit in one transaction) is the one implementation; Milvus or
 * Qdrant would implement the same four calls (writes then follow the database commit, keyed by
 * chunk id so a repeat overwrites).
 */
export interface VectorIndex {
  /** replaces the file's chunks with `chunks`; returns the ids it removed */
  replaceFileChunks(tx: DbOrTx, storeId: string, fileId: string, chunks: ChunkInput[]): Promise<string[]>;
  chunkIdsOf(tx: DbOrTx, storeId: string, fileId?: string): Promise<string[]>;
  /** nearest chunks of completed files in the stores; `where` narrows on vector_store_files columns */
  search(
    db: DbOrTx,
    q: { storeIds: string[]; vector: number[]; limit: number; where?: SQL | undefined },
  ): Promise<DenseHit[]>;
}

/** below this many chunks in the searched stores an exact scan is fast and exact; above, HNSW */
const EXACT_BELOW = 20_000;
const INSERT_BATCH = 500;

export function createPgVectorIndex(opts: { exactBelow?: number } = {}): VectorIndex {
  const exactBelow = opts.exactBelow ?? EXACT_BELOW;
  const indexed = new Set<number>(HNSW_DIMENSIONS);
  return {
    async replaceFileChunks(tx, storeId, fileId, chunks) {
      const old = await tx
        .delete(knowledgeChunks)
        .where(and(eq(knowledgeChunks.storeId, storeId), eq(knowledgeChunks.fileId, fileId)))
        .returning({ id: knowledgeChunks.id });
      for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
        await tx.insert(knowledgeChunks).values(
          chunks.slice(i, i + INSERT_BATCH).map((c) => ({
            id: c.id,
            storeId,
            fileId,
            position: c.position,
            text: c.text,
            tokens: c.tokens,
            headings: c.headings ?? null,
            context: c.context ?? null,
            dims: c.embedding.length,
            embedding: c.embedding,
          })),
        );
      }
      return old.map((r) => r.id);
    },

    async chunkIdsOf(tx, storeId, fileId) {
      const rows = await tx
        .select({ id: knowledgeChunks.id })
        .from(knowledgeChunks)
        .where(
          fileId
            ? and(eq(knowledgeChunks.storeId, storeId), eq(knowledgeChunks.fileId, fileId))
            : eq(knowledgeChunks.storeId, storeId),
        );
      return rows.map((r) => r.id);
    },

    async search(db, q) {
      const dims = q.vector.length;
      const literal = `[${q.vector.join(',')}]`;
      const [{ n } = { n: 0 }] = await db
        .select({ n: sql<number>`coalesce(sum(${vectorStoreFiles.chunkCount}), 0)::int` })
        .from(vectorStoreFiles)
        .where(inArray(vectorStoreFiles.storeId, q.storeIds));
      // the HNSW index is on the cast expression of its dimension, for rows of that dimension only
      const approximate = indexed.has(dims) && n >= exactBelow;
      const distance = approximate
        ? sql`(${knowledgeChunks.embedding}::vector(${sql.raw(String(dims))})) <=> ${literal}::vector(${sql.raw(String(dims))})`
        : sql`${knowledgeChunks.embedding} <=> ${literal}::vector`;
      const where = and(
        inArray(knowledgeChunks.storeId, q.storeIds),
        eq(knowledgeChunks.dims, dims),
        eq(vectorStoreFiles.status, 'completed'),
        q.where,
      );
      const run = (tx: DbOrTx) =>
        tx
          .select({ chunkId: knowledgeChunks.id, distance: sql<number>`${distance}` })
          .from(knowledgeChunks)
          .innerJoin(
            vectorStoreFiles,
            and(
              eq(vectorStoreFiles.storeId, knowledgeChunks.storeId),
              eq(vectorStoreFiles.fileId, knowledgeChunks.fileId),
            ),
          )
          .where(where)
          .orderBy(distance)
          .limit(q.limit);
      const rows = approximate
        ? await (db as Db).transaction(async (tx) => {
            // filters (store, attributes) apply after the index scan: keep scanning until enough pass
            await tx.execute(sql`set local hnsw.iterative_scan = strict_order`);
            await tx.execute(sql`set local hnsw.ef_search = ${sql.raw(String(Math.max(40, q.limit * 2)))}`);
            return run(tx);
          })
        : await run(db);
      return rows.map((r) => ({ chunkId: r.chunkId, score: 1 - Number(r.distance) }));
    },
  };
}
