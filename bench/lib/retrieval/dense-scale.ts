import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../apps/server/src/db/client.ts';
import { orgs } from '../../../apps/server/src/modules/identity/schema.ts';
import { vectorStoreFiles, vectorStores } from '../../../apps/server/src/modules/knowledge/schema.ts';
import { createPgVectorIndex } from '../../../apps/server/src/modules/knowledge/vector-index.ts';
import type { Passage } from './dataset.ts';
import { percentile } from './metrics.ts';
import { syntheticChunks } from './scale.ts';

const STORE = 'vs_bench_dense';
const FILE = 'file_bench_dense';
/** the chunks of one file, written as ingestion writes them (one replaceFileChunks per batch file) */
const BATCH = 2_000;

const dimsOf = (vectors: number[][]) => vectors[0]?.length ?? 0;

export interface DenseScale {
  chunks: number;
  dims: number;
  /** embedding (the loopback LSA server) and indexing (pgvector insert with its HNSW index) */
  embed_docs_per_s: number;
  index_docs_per_s: number;
  ingest_docs_per_s: number;
  /** bulk: chunks inserted without the HNSW index, which is built after them (its build time here) */
  hnsw_build_s: number | null;
  hnsw: { p50_ms: number; p95_ms: number };
  exact: { p50_ms: number; p95_ms: number };
  /** share of the exact top-10 that HNSW found, over the queries */
  recall_at_10: number;
}

/**
 * Dense retrieval at `count` synthetic chunks through the product's own VectorIndex (pgvector in
 * PGlite): the chunks embedded by the bench's embedding server, written with replaceFileChunks
 * into the HNSW-indexed table, then top-10 searched per query by HNSW and by an exact scan.
 */
export async function measureDenseScale(
  db: DbOrTx,
  passages: Passage[],
  queryVectors: number[][],
  count: number,
  embed: (texts: string[]) => Promise<number[][]>,
  log: (...parts: unknown[]) => void,
  bulk = true,
): Promise<DenseScale> {
  const index = `knowledge_chunks_hnsw_${dimsOf(queryVectors)}`;
  // PGlite inserts into a live HNSW index at ~55 docs/s on this machine: a bulk load builds it after
  if (bulk) await db.execute(sql.raw(`drop index if exists ${index}`));
  await db.insert(orgs).values({ id: 'org_bench', name: 'bench', slug: 'bench' }).onConflictDoNothing();
  await db
    .insert(vectorStores)
    .values({
      id: STORE,
      orgId: 'org_bench',
      projectId: 'proj_bench',
      embeddingModel: 'lsa-bench',
      chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
      retrieval: { ranker: 'none', max_num_results: 10, score_threshold: 0 },
    })
    .onConflictDoNothing();
  const hnsw = createPgVectorIndex({ exactBelow: 0 });
  const exact = createPgVectorIndex({ exactBelow: Number.MAX_SAFE_INTEGER });
  let embedMs = 0;
  let indexMs = 0;
  let dims = 0;
  let file = 0;
  let batch: { id: string; text: string }[] = [];
  const flush = async () => {
    let t = performance.now();
    const vectors = await embed(batch.map((c) => c.text));
    embedMs += performance.now() - t;
    dims = vectors[0]?.length ?? dims;
    t = performance.now();
    const fileId = `${FILE}_${file++}`;
    await db.insert(vectorStoreFiles).values({
      storeId: STORE,
      fileId,
      orgId: 'org_bench',
      projectId: 'proj_bench',
      filename: `${fileId}.txt`,
      chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
      status: 'completed',
    });
    await hnsw.replaceFileChunks(
      db,
      STORE,
      fileId,
      batch.map((c, i) => ({ id: c.id, position: i, text: c.text, tokens: 0, embedding: vectors[i]! })),
    );
    indexMs += performance.now() - t;
    batch = [];
  };
  let done = 0;
  for (const chunk of syntheticChunks(passages, count)) {
    batch.push({ ...chunk, id: `dense-${chunk.id}` });
    if (batch.length === BATCH) {
      await flush();
      done += BATCH;
      if (done % 20_000 === 0)
        log(`  dense: ${done} chunks embedded and indexed (${((embedMs + indexMs) / 1000).toFixed(0)} s)`);
    }
  }
  if (batch.length) await flush();
  let buildMs: number | null = null;
  if (bulk) {
    const t = performance.now();
    const d = dimsOf(queryVectors);
    await db.execute(
      sql.raw(
        `create index ${index} on knowledge_chunks using hnsw ((embedding::vector(${d})) vector_cosine_ops) where dims = ${d}`,
      ),
    );
    buildMs = performance.now() - t;
    indexMs += buildMs;
    log(`  dense: HNSW index built over ${count} chunks in ${(buildMs / 1000).toFixed(0)} s`);
  }

  const timed = async (index: typeof hnsw) => {
    const latency: number[] = [];
    const ids: string[][] = [];
    for (const vector of queryVectors) {
      const t = performance.now();
      const hits = await index.search(db, { storeIds: [STORE], vector, limit: 10 });
      latency.push(performance.now() - t);
      ids.push(hits.map((h) => h.chunkId));
    }
    latency.sort((a, b) => a - b);
    return { p50_ms: percentile(latency, 50), p95_ms: percentile(latency, 95), ids };
  };
  const approx = await timed(hnsw);
  const truth = await timed(exact);
  let found = 0;
  let total = 0;
  truth.ids.forEach((want, i) => {
    const got = new Set(approx.ids[i]);
    total += want.length;
    found += want.filter((id) => got.has(id)).length;
  });
  const result: DenseScale = {
    chunks: count,
    dims,
    embed_docs_per_s: count / (embedMs / 1000),
    index_docs_per_s: count / (indexMs / 1000),
    ingest_docs_per_s: count / ((embedMs + indexMs) / 1000),
    hnsw_build_s: buildMs === null ? null : buildMs / 1000,
    hnsw: { p50_ms: approx.p50_ms, p95_ms: approx.p95_ms },
    exact: { p50_ms: truth.p50_ms, p95_ms: truth.p95_ms },
    recall_at_10: total ? found / total : 0,
  };
  log(
    `\ndense scale: ${count} chunks (${dims} dims) ingested at ${result.ingest_docs_per_s.toFixed(0)} docs/s (embed ${result.embed_docs_per_s.toFixed(0)}, pgvector+HNSW insert ${result.index_docs_per_s.toFixed(0)} docs/s)`,
  );
  log(
    `  dense top-10 at ${count} chunks (${queryVectors.length} queries): HNSW p50 ${result.hnsw.p50_ms.toFixed(1)} ms, p95 ${result.hnsw.p95_ms.toFixed(1)} ms; exact scan p50 ${result.exact.p50_ms.toFixed(1)} ms, p95 ${result.exact.p95_ms.toFixed(1)} ms; HNSW recall@10 vs exact ${result.recall_at_10.toFixed(3)}`,
  );
  return result;
}
