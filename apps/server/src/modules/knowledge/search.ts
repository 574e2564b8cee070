import { and, eq, inArray } from 'drizzle-orm';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { badRequest } from './errors.ts';
import { filterToSql } from './filters.ts';
import { EmbedError, embedTexts } from './ingest/embed.ts';
import type { KnowledgeDeps } from './ports.ts';
import { rerankTexts } from './rerank.ts';
import { knowledgeChunks, type VectorStoreRow, vectorStoreFiles } from './schema.ts';
import { type Filter, isRanker } from './wire.ts';

export interface SearchInput {
  stores: VectorStoreRow[];
  queries: string[];
  maxResults: number;
  filters?: Filter | undefined;
  ranker: 'auto' | 'none' | 'default-2024-11-15';
  scoreThreshold: number;
  /** a rerank model (through /v1/rerank, as the key): the first stage's best candidates are re-scored */
  rerankModel?: string | null | undefined;
  /** how many of the first stage's hits the rerank model sees (default: 4 per result, at least 20) */
  rerankCandidates?: number | undefined;
}

export interface ScoreBreakdown {
  dense: number | null;
  lexical: number | null;
  dense_rank: number | null;
  lexical_rank: number | null;
  /** the rerank model's relevance score (as it answered it) and the rank it gave; null: not reranked */
  rerank: number | null;
  rerank_rank: number | null;
}

export interface SearchHit {
  chunkId: string;
  fileId: string;
  storeId: string;
  filename: string;
  attributes: Record<string, string | number | boolean>;
  /** the chunk's text, or its parent's (parent-child splitter) */
  text: string;
  /** the headings the chunk sits under (heading splitter); empty: none */
  headings: string[];
  score: number;
  breakdown: ScoreBreakdown;
}

/**
 * What a search of `store` runs: the request's ranker (OpenAI's, or a rerank model's name) over the
 * store's retrieval defaults. A store's `rerank_model` applies unless the ranker is `none`.
 */
export function rankingFor(store: VectorStoreRow, ranker: string | undefined) {
  if (ranker !== undefined && !isRanker(ranker))
    return {
      ranker: 'auto' as const,
      rerankModel: ranker,
      rerankCandidates: store.retrieval.rerank_candidates,
    };
  const chosen = ranker ?? store.retrieval.ranker;
  return {
    ranker: chosen,
    rerankModel: chosen === 'none' ? null : (store.retrieval.rerank_model ?? null),
    rerankCandidates: store.retrieval.rerank_candidates,
  };
}

/** candidates each half brings to the fusion, per result asked for */
const CANDIDATES_PER_RESULT = 4;

/**
 * Dense search (pgvector cosine) over the stores' completed files, narrowed by attribute filters;
 * with the `auto` (or dated default) ranker and the lexical half present, BM25 hits are fused in.
 * Several queries are searched one by one and merged, each chunk at its best score.
 */
export async function searchStores(
  deps: KnowledgeDeps,
  key: KeyPrincipal,
  input: SearchInput,
): Promise<SearchHit[]> {
  const [first] = input.stores;
  if (!first) return [];
  if (
    input.stores.some((s) => s.embeddingModel !== first.embeddingModel || s.dimensions !== first.dimensions)
  )
    throw badRequest(
      'The vector stores searched together must use the same embedding model.',
      'vector_store_ids',
    );
  if (first.dimensions === null) return []; // nothing embedded yet
  const storeIds = input.stores.map((s) => s.id);
  const where = input.filters ? filterToSql(input.filters) : undefined;
  const vectors = await embedQueries(deps, key, first.embeddingModel, input.queries);
  const hybrid = input.ranker !== 'none' && deps.lexical !== null;
  const candidates = Math.max(input.maxResults * CANDIDATES_PER_RESULT, 20);
  const best = new Map<string, { score: number; breakdown: ScoreBreakdown }>();
  for (const [i, query] of input.queries.entries()) {
    const dense = await deps.vectors.search(deps.db, {
      storeIds,
      vector: vectors[i]!,
      limit: candidates,
      where,
    });
    const ranked = hybrid
      ? deps.lexical!.fuseHits(dense, await deps.lexical!.lexicalSearch(deps.db, storeIds, query, candidates))
      : dense.map((h, rank) => ({
          chunkId: h.chunkId,
          score: h.score,
          breakdown: { dense: h.score, lexical: null, dense_rank: rank + 1, lexical_rank: null },
        }));
    for (const hit of ranked) {
      const had = best.get(hit.chunkId);
      if (!had || had.score < hit.score)
        best.set(hit.chunkId, {
          score: hit.score,
          breakdown: { ...hit.breakdown, rerank: null, rerank_rank: null },
        });
    }
  }
  const ordered = [...best.entries()].sort((a, b) => b[1].score - a[1].score);
  if (ordered.length === 0) return [];
  // the chunks themselves, of completed files that pass the filters (lexical hits are checked here)
  const rows = await deps.db
    .select({
      chunkId: knowledgeChunks.id,
      storeId: knowledgeChunks.storeId,
      fileId: knowledgeChunks.fileId,
      text: knowledgeChunks.text,
      context: knowledgeChunks.context,
      headings: knowledgeChunks.headings,
      filename: vectorStoreFiles.filename,
      attributes: vectorStoreFiles.attributes,
    })
    .from(knowledgeChunks)
    .innerJoin(
      vectorStoreFiles,
      and(
        eq(vectorStoreFiles.storeId, knowledgeChunks.storeId),
        eq(vectorStoreFiles.fileId, knowledgeChunks.fileId),
      ),
    )
    .where(
      and(
        inArray(
          knowledgeChunks.id,
          ordered.map(([id]) => id),
        ),
        inArray(knowledgeChunks.storeId, storeIds),
        eq(vectorStoreFiles.status, 'completed'),
        where,
      ),
    );
  const byId = new Map(rows.map((r) => [r.chunkId, r]));
  const found: SearchHit[] = [];
  const parents = new Set<string>();
  for (const [id, s] of ordered) {
    const row = byId.get(id);
    if (!row) continue;
    const { context, headings, ...rest } = row;
    // children of one parent answer once, with the parent, at the best child's score
    if (context !== null) {
      const parent = `${row.fileId}\u0000${context}`;
      if (parents.has(parent)) continue;
      parents.add(parent);
    }
    found.push({
      ...rest,
      text: context ?? row.text,
      headings: headings ?? [],
      score: s.score,
      breakdown: s.breakdown,
    });
  }
  const ranked = input.rerankModel
    ? await reranked(deps, key, input, found.slice(0, input.rerankCandidates ?? candidates))
    : found;
  return ranked.filter((h) => h.score >= input.scoreThreshold).slice(0, input.maxResults);
}

/** The first stage's hits in the rerank model's order, each scored by it. */
async function reranked(
  deps: KnowledgeDeps,
  key: KeyPrincipal,
  input: SearchInput,
  hits: SearchHit[],
): Promise<SearchHit[]> {
  const scored = await rerankTexts(
    deps.gw,
    key,
    input.rerankModel!,
    input.queries.join('\n'),
    hits.map((h) => h.text),
  );
  return scored.map((r, rank) => {
    const hit = hits[r.index]!;
    return { ...hit, score: r.score, breakdown: { ...hit.breakdown, rerank: r.raw, rerank_rank: rank + 1 } };
  });
}

async function embedQueries(deps: KnowledgeDeps, key: KeyPrincipal, model: string, queries: string[]) {
  try {
    return await embedTexts(queries, { gw: deps.gw, key, model, maxAttempts: 1 });
  } catch (err) {
    if (err instanceof EmbedError)
      throw new AppError(
        err.status === 429 ? 'rate_limit_exceeded' : err.transient ? 'service_unavailable' : 'upstream_error',
        `Could not embed the query: ${err.message}`,
      );
    throw err;
  }
}

/** OpenAI's search result page, plus `score_breakdown` and `chunk_id` on each hit. */
export function toSearchPage(queries: string[], hits: SearchHit[]) {
  return {
    object: 'vector_store.search_results.page' as const,
    search_query: queries,
    data: hits.map((h) => ({
      file_id: h.fileId,
      filename: h.filename,
      score: h.score,
      attributes: h.attributes,
      content: [{ type: 'text' as const, text: h.text }],
      chunk_id: h.chunkId,
      headings: h.headings,
      score_breakdown: h.breakdown,
    })),
    has_more: false,
    next_page: null,
  };
}
