import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** pgvector's `vector` without a fixed dimension: one table holds the chunks of every store. */
const vector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (value) => `[${value.join(',')}]`,
  fromDriver: (value) => JSON.parse(value) as number[],
});

/** How a document is cut (extension): recursive by tokens (OpenAI's), by heading, or parent-child. */
export type Splitter = 'recursive' | 'heading' | 'parent_child';
export interface StaticChunking {
  max_chunk_size_tokens: number;
  chunk_overlap_tokens: number;
  /** absent: recursive */
  splitter?: Splitter;
  /** parent_child: the size of the parents, whose children (of max_chunk_size_tokens) are indexed */
  parent_chunk_size_tokens?: number;
}
export interface ExpiresAfter {
  anchor: 'last_active_at';
  days: number;
}
/** What a search uses unless the request says otherwise (extension, set through create/update). */
export interface RetrievalDefaults {
  ranker: 'auto' | 'none' | 'default-2024-11-15';
  max_num_results: number;
  score_threshold: number;
  /** a rerank model searches re-score their best candidates with (absent/null: none) */
  rerank_model?: string | null;
  rerank_candidates?: number;
}
export type Attributes = Record<string, string | number | boolean>;
export type VectorStoreFileStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';
export type StageName = 'parse' | 'split' | 'embed' | 'index';
export interface StageState {
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  /** e.g. characters parsed, chunks made, inputs embedded */
  count?: number;
}
export type Stages = Partial<Record<StageName, StageState>>;

/**
 * OpenAI's vector stores (= knowledge bases), per org and project. `dimensions` is fixed by the
 * first embedding the model returns; file counts, status and usage are read from the files.
 */
export const vectorStores = pgTable(
  'vector_stores',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
    name: text('name'),
    description: text('description'),
    embeddingModel: text('embedding_model').notNull(),
    dimensions: integer('dimensions'),
    chunking: jsonb('chunking').$type<StaticChunking>().notNull(),
    /** bumped when the chunking changes: files of an older generation are re-indexed */
    generation: integer('generation').notNull().default(0),
    retrieval: jsonb('retrieval').$type<RetrievalDefaults>().notNull(),
    metadata: jsonb('metadata').$type<Record<string, string>>(),
    expiresAfter: jsonb('expires_after').$type<ExpiresAfter>(),
    expiresAt: ts('expires_at'),
    lastActiveAt: ts('last_active_at').notNull().defaultNow(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('vector_stores_project_idx').on(t.orgId, t.projectId, t.id)],
);

/** A file of /v1/files in a store, with its ingestion state per stage. */
export const vectorStoreFiles = pgTable(
  'vector_store_files',
  {
    storeId: text('vector_store_id')
      .notNull()
      .references(() => vectorStores.id, { onDelete: 'cascade' }),
    fileId: text('file_id').notNull(),
    orgId: text('org_id').notNull(),
    projectId: text('project_id').notNull(),
    filename: text('filename').notNull(),
    attributes: jsonb('attributes').$type<Attributes>().notNull().default({}),
    chunking: jsonb('chunking').$type<StaticChunking>().notNull(),
    status: text('status').$type<VectorStoreFileStatus>().notNull(),
    lastError: jsonb('last_error').$type<{ code: string; message: string } | null>(),
    stages: jsonb('stages').$type<Stages>().notNull().default({}),
    /** the store generation this file's chunks were (or are being) made for */
    generation: integer('generation').notNull().default(0),
    jobId: text('job_id'),
    batchId: text('batch_id'),
    usageBytes: bigint('usage_bytes', { mode: 'number' }).notNull().default(0),
    chunkCount: integer('chunk_count').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.storeId, t.fileId] }),
    index('vector_store_files_status_idx').on(t.storeId, t.status),
    index('vector_store_files_batch_idx').on(t.batchId),
  ],
);

export const vectorStoreFileBatches = pgTable('vector_store_file_batches', {
  id: text('id').primaryKey(),
  storeId: text('vector_store_id')
    .notNull()
    .references(() => vectorStores.id, { onDelete: 'cascade' }),
  orgId: text('org_id').notNull(),
  projectId: text('project_id').notNull(),
  cancelledAt: ts('cancelled_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** Dimensions with an HNSW index (partial, on the cast expression); others are searched exactly. */
export const HNSW_DIMENSIONS = [256, 384, 512, 768, 1024, 1536] as const;

/**
 * Chunks of every store in one table: `embedding` is an untyped `vector` and `dims` its length, so
 * one partial HNSW index per common dimension serves every store of that dimension.
 */
export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    id: text('id').primaryKey(),
    storeId: text('store_id').notNull(),
    fileId: text('file_id').notNull(),
    position: integer('position').notNull(),
    text: text('text').notNull(),
    tokens: integer('tokens').notNull(),
    /** the headings the chunk sits under, outermost first (heading splitter) */
    headings: jsonb('headings').$type<string[]>(),
    /** the parent chunk's text, returned in the chunk's place (parent-child splitter) */
    context: text('context'),
    dims: integer('dims').notNull(),
    embedding: vector('embedding').notNull(),
  },
  (t) => [
    foreignKey({
      columns: [t.storeId, t.fileId],
      foreignColumns: [vectorStoreFiles.storeId, vectorStoreFiles.fileId],
      name: 'knowledge_chunks_file_fk',
    }).onDelete('cascade'),
    index('knowledge_chunks_file_idx').on(t.storeId, t.fileId, t.position),
    ...HNSW_DIMENSIONS.map((d) =>
      index(`knowledge_chunks_hnsw_${d}`)
        .using('hnsw', sql.raw(`(embedding::vector(${d})) vector_cosine_ops`))
        .where(sql.raw(`dims = ${d}`)),
    ),
  ],
);

export type VectorStoreRow = typeof vectorStores.$inferSelect;
export type VectorStoreFileRow = typeof vectorStoreFiles.$inferSelect;
export type FileBatchRow = typeof vectorStoreFileBatches.$inferSelect;
