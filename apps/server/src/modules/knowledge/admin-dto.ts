import { z } from 'zod';
import type { toVectorStoreFileObject, toVectorStoreObject } from './dto.ts';
import type { VectorStoreRow } from './schema.ts';
import { createStoreBody } from './wire.ts';

/** The console's shapes of knowledge bases: /v1's objects with ISO timestamps and the project named. */

type StoreObject = ReturnType<typeof toVectorStoreObject>;
type FileObject = ReturnType<typeof toVectorStoreFileObject>;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

export function toKnowledgeBaseDto(o: StoreObject, projectId: string) {
  return {
    id: o.id,
    project_id: projectId,
    name: o.name,
    description: o.description,
    status: o.status,
    embedding_model: o.embedding_model,
    dimensions: o.dimensions,
    chunking_strategy: o.chunking_strategy,
    retrieval: o.retrieval,
    metadata: o.metadata,
    expires_after: o.expires_after,
    expires_at: o.expires_at === null ? null : iso(o.expires_at),
    last_active_at: iso(o.last_active_at),
    created_at: iso(o.created_at),
    file_counts: o.file_counts,
    usage_bytes: o.usage_bytes,
  };
}

/** A document of a knowledge base with its pipeline state per stage (parse, split, embed, index). */
export function toDocumentDto(o: FileObject) {
  return {
    id: o.id,
    knowledge_base_id: o.vector_store_id,
    filename: o.filename,
    status: o.status,
    last_error: o.last_error,
    stages: o.stages,
    chunk_count: o.chunk_count,
    usage_bytes: o.usage_bytes,
    attributes: o.attributes,
    chunking_strategy: o.chunking_strategy,
    created_at: iso(o.created_at),
  };
}

// Response schemas. The serializer drops what a schema does not name, and the handlers' return
// types are checked against them, so every field of the stored settings is listed.
const chunkingStrategy = z.object({
  type: z.literal('static'),
  static: z.object({
    max_chunk_size_tokens: z.number(),
    chunk_overlap_tokens: z.number(),
    splitter: z.enum(['recursive', 'heading', 'parent_child']).optional(),
    parent_chunk_size_tokens: z.number().optional(),
  }),
});
const fileCounts = z.object({
  in_progress: z.number(),
  completed: z.number(),
  failed: z.number(),
  cancelled: z.number(),
  total: z.number(),
});
const stage = z.object({
  started_at: z.number().nullable(),
  finished_at: z.number().nullable(),
  error: z.string().nullable(),
  count: z.number().optional(),
});
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const knowledgeBaseDto = z.object({
  id: z.string(),
  project_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  status: z.enum(['expired', 'in_progress', 'completed']),
  embedding_model: z.string(),
  dimensions: z.number().nullable(),
  chunking_strategy: chunkingStrategy,
  retrieval: z.object({
    ranker: z.enum(['auto', 'none', 'default-2024-11-15']),
    max_num_results: z.number(),
    score_threshold: z.number(),
    rerank_model: z.string().nullable().optional(),
    rerank_candidates: z.number().optional(),
  }),
  metadata: z.record(z.string(), z.string()),
  expires_after: z.object({ anchor: z.literal('last_active_at'), days: z.number() }).nullable(),
  expires_at: z.string().nullable(),
  last_active_at: z.string(),
  created_at: z.string(),
  file_counts: fileCounts,
  usage_bytes: z.number(),
});

export const documentDto = z.object({
  id: z.string(),
  knowledge_base_id: z.string(),
  filename: z.string(),
  status: z.enum(['in_progress', 'completed', 'failed', 'cancelled']),
  last_error: z.object({ code: z.string(), message: z.string() }).nullable(),
  stages: z
    .partialRecord(z.enum(['parse', 'split', 'embed', 'index']), stage)
    .describe('when each stage ran, what it counted and its error'),
  chunk_count: z.number(),
  usage_bytes: z.number(),
  attributes,
  chunking_strategy: chunkingStrategy,
  created_at: z.string(),
});

export const knowledgeBaseList = z.object({
  data: z.array(knowledgeBaseDto),
  next_cursor: z.string().nullable(),
});
export const documentList = z.object({ data: z.array(documentDto), next_cursor: z.string().nullable() });
export const knowledgeModelList = z.object({
  data: z.array(z.object({ name: z.string(), type: z.enum(['embedding', 'rerank']) })),
});
export const chunkList = z.object({ data: z.array(z.object({ position: z.number(), text: z.string() })) });
export const searchResults = z.object({
  search_query: z.array(z.string()),
  data: z.array(
    z.object({
      file_id: z.string(),
      filename: z.string(),
      score: z.number(),
      attributes,
      content: z.array(z.object({ type: z.literal('text'), text: z.string() })),
      chunk_id: z.string(),
      headings: z.array(z.string()),
      score_breakdown: z.object({
        dense: z.number().nullable(),
        lexical: z.number().nullable(),
        dense_rank: z.number().nullable(),
        lexical_rank: z.number().nullable(),
        rerank: z.number().nullable(),
        rerank_rank: z.number().nullable(),
      }),
    }),
  ),
});

/** What the audit log keeps of a knowledge base (its settings, never its content). */
export const auditView = (row: VectorStoreRow) => ({
  id: row.id,
  project_id: row.projectId,
  name: row.name,
  embedding_model: row.embeddingModel,
  chunking: row.chunking,
  retrieval: row.retrieval,
  expires_after: row.expiresAfter,
});

/** ids are opaque, type-prefixed strings; anything else names nothing */
const id = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'not a valid id');
export const projectParams = z.strictObject({ id });
export const kbParams = projectParams.extend({ kb_id: id });
export const documentParams = kbParams.extend({ file_id: id });

/** A knowledge base is created empty: documents are uploaded (or added from /v1/files) after. */
export const createKnowledgeBaseBody = createStoreBody.omit({ file_ids: true });

export const documentsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(['in_progress', 'completed', 'failed', 'cancelled']).optional(),
});
export const knowledgeBasesQuery = documentsQuery.omit({ status: true });
