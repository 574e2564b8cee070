import { z } from 'zod';
import { PARENT_FACTOR } from './ingest/chunk-document.ts';
import type { StaticChunking } from './schema.ts';

/** Request bodies of /v1/vector_stores, as OpenAI validates them. */

export const DEFAULT_CHUNKING = { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } as const;

export const chunkingStrategy = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('auto') }),
    z.strictObject({
      type: z.literal('static'),
      static: z.strictObject({
        max_chunk_size_tokens: z.number().int().min(100).max(4096),
        chunk_overlap_tokens: z.number().int().min(0),
        /** extension: recursive (OpenAI's, the default), by heading, or parent-child */
        splitter: z.enum(['recursive', 'heading', 'parent_child']).optional(),
        /** extension, parent_child: the parents' size (default 4 × max_chunk_size_tokens) */
        parent_chunk_size_tokens: z.number().int().min(200).max(16384).optional(),
      }),
    }),
  ])
  .refine((c) => c.type !== 'static' || c.static.chunk_overlap_tokens <= c.static.max_chunk_size_tokens / 2, {
    message: 'chunk_overlap_tokens must not exceed half of max_chunk_size_tokens',
    path: ['static', 'chunk_overlap_tokens'],
  })
  .refine(
    (c) =>
      c.type !== 'static' ||
      c.static.parent_chunk_size_tokens === undefined ||
      (c.static.splitter === 'parent_child' &&
        c.static.parent_chunk_size_tokens > c.static.max_chunk_size_tokens),
    {
      message:
        'parent_chunk_size_tokens goes with splitter parent_child and must exceed max_chunk_size_tokens',
      path: ['static', 'parent_chunk_size_tokens'],
    },
  );
export type ChunkingStrategyInput = z.infer<typeof chunkingStrategy>;

/** The settings as stored: recursive is the splitter when none is named (OpenAI's objects stay as they were). */
export function toStaticChunking(c: ChunkingStrategyInput | undefined): StaticChunking {
  if (c?.type !== 'static') return { ...DEFAULT_CHUNKING };
  const { splitter, parent_chunk_size_tokens, ...sizes } = c.static;
  if (!splitter || splitter === 'recursive') return sizes;
  if (splitter === 'heading') return { ...sizes, splitter };
  return {
    ...sizes,
    splitter,
    parent_chunk_size_tokens: parent_chunk_size_tokens ?? sizes.max_chunk_size_tokens * PARENT_FACTOR,
  };
}

export const sameChunking = (a: StaticChunking, b: StaticChunking) =>
  a.max_chunk_size_tokens === b.max_chunk_size_tokens &&
  a.chunk_overlap_tokens === b.chunk_overlap_tokens &&
  (a.splitter ?? 'recursive') === (b.splitter ?? 'recursive') &&
  a.parent_chunk_size_tokens === b.parent_chunk_size_tokens;

export const metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, { message: 'metadata may hold at most 16 keys' });

export const attributes = z
  .record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean()]))
  .refine((m) => Object.keys(m).length <= 16, { message: 'attributes may hold at most 16 keys' });

export const expiresAfter = z.strictObject({
  anchor: z.literal('last_active_at'),
  days: z.number().int().min(1).max(365),
});

const modelName = z.string().min(1).max(200);
const retrievalDefaults = z.strictObject({
  ranker: z.enum(['auto', 'none', 'default-2024-11-15']).optional(),
  max_num_results: z.number().int().min(1).max(50).optional(),
  score_threshold: z.number().min(0).max(1).optional(),
  /** a rerank model of the registry: searches re-score their best candidates through it (null: off) */
  rerank_model: modelName.nullable().optional(),
  /** how many first-stage hits the rerank model sees */
  rerank_candidates: z.number().int().min(1).max(100).optional(),
});
export type RetrievalDefaultsInput = z.infer<typeof retrievalDefaults>;

/** OpenAI's rankers, or (extension) the name of a rerank model to re-score the hybrid hits with. */
export const RANKERS = ['auto', 'none', 'default-2024-11-15'] as const;
export type Ranker = (typeof RANKERS)[number];
export const isRanker = (v: string): v is Ranker => (RANKERS as readonly string[]).includes(v);

const fileId = z.string().min(1).max(200);

export const createStoreBody = z.strictObject({
  name: z.string().max(256).optional(),
  description: z.string().max(512).optional(),
  file_ids: z.array(fileId).max(500).optional(),
  chunking_strategy: chunkingStrategy.optional(),
  expires_after: expiresAfter.optional(),
  metadata: metadata.nullable().optional(),
  /** extension: the registry's embedding model (default: the first embedding model the key may use) */
  embedding_model: z.string().min(1).max(200).optional(),
  /** extension: what searches use unless they say otherwise */
  retrieval: retrievalDefaults.optional(),
});

export const updateStoreBody = z.strictObject({
  name: z.string().max(256).nullable().optional(),
  /** extension */
  description: z.string().max(512).nullable().optional(),
  /** extension: another embedding model drops the chunks and re-indexes every file */
  embedding_model: z.string().min(1).max(200).optional(),
  expires_after: expiresAfter.nullable().optional(),
  metadata: metadata.nullable().optional(),
  /** extension: new chunking settings re-index every file */
  chunking_strategy: chunkingStrategy.optional(),
  retrieval: retrievalDefaults.optional(),
});

export const createFileBody = z.strictObject({
  file_id: fileId,
  attributes: attributes.nullable().optional(),
  chunking_strategy: chunkingStrategy.optional(),
});

export const updateFileBody = z.strictObject({ attributes: attributes.nullable() });

export const createBatchBody = z
  .strictObject({
    file_ids: z.array(fileId).min(1).max(500).optional(),
    files: z.array(createFileBody).min(1).max(500).optional(),
    attributes: attributes.nullable().optional(),
    chunking_strategy: chunkingStrategy.optional(),
  })
  .refine((b) => Boolean(b.file_ids) !== Boolean(b.files), {
    message: 'Provide exactly one of file_ids or files',
    path: ['file_ids'],
  });

const scalar = z.union([z.string(), z.number(), z.boolean()]);
export const comparisonFilter = z.strictObject({
  type: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']),
  key: z.string().min(1).max(64),
  value: z.union([scalar, z.array(scalar).max(100)]),
});
export type ComparisonFilter = z.infer<typeof comparisonFilter>;
export type CompoundFilter = { type: 'and' | 'or'; filters: Filter[] };
export type Filter = ComparisonFilter | CompoundFilter;
/** Recursive, so OpenAPI names it (`components.schemas.VectorStoreFilterInput`) and refers to it. */
export const filter: z.ZodType<Filter> = z
  .lazy(() =>
    z.union([
      comparisonFilter,
      z.strictObject({ type: z.enum(['and', 'or']), filters: z.array(filter).min(1).max(20) }),
    ]),
  )
  .meta({ id: 'VectorStoreFilter' });

export const searchBody = z.strictObject({
  query: z.union([z.string().min(1).max(4096), z.array(z.string().min(1).max(4096)).min(1).max(10)]),
  max_num_results: z.number().int().min(1).max(50).optional(),
  filters: filter.optional(),
  ranking_options: z
    .strictObject({
      ranker: z.union([z.enum(RANKERS), modelName]).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
  rewrite_query: z.boolean().optional(),
});
export type SearchBody = z.infer<typeof searchBody>;

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().max(200).optional(),
  before: z.string().max(200).optional(),
  filter: z.enum(['in_progress', 'completed', 'failed', 'cancelled']).optional(),
});
export type ListQuery = z.infer<typeof listQuery>;
