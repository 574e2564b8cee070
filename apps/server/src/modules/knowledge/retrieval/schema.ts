import { bigint, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/**
 * The lexical (BM25) index of knowledge chunks. `store_id` and `chunk_id` are plain columns (no
 * foreign key to the chunks table): the index is written in the same transaction as the chunks it
 * describes, and removed with them by `removeChunkTerms`.
 */

/**
 * One row per (store, term, chunk): how often the term occurs in the chunk, and the chunk's length
 * (copied here so that scoring reads the postings alone, without a join per posting).
 */
export const knowledgeTermPostings = pgTable(
  'knowledge_term_postings',
  {
    storeId: text('store_id').notNull(),
    term: text('term').notNull(),
    chunkId: text('chunk_id').notNull(),
    tf: integer('tf').notNull(),
    chunkLength: integer('chunk_length').notNull(),
  },
  (t) => [
    // search: the postings of the query's terms in the searched stores
    primaryKey({ name: 'knowledge_term_postings_pk', columns: [t.storeId, t.term, t.chunkId] }),
    // removal and re-indexing: a chunk's postings
    index('knowledge_term_postings_chunk_idx').on(t.storeId, t.chunkId),
  ],
);

/** A chunk's length in index terms (BM25's document length). */
export const knowledgeChunkLengths = pgTable(
  'knowledge_chunk_lengths',
  {
    storeId: text('store_id').notNull(),
    chunkId: text('chunk_id').notNull(),
    length: integer('length').notNull(),
  },
  (t) => [primaryKey({ name: 'knowledge_chunk_lengths_pk', columns: [t.storeId, t.chunkId] })],
);

/** A term's document frequency in a store, kept with the postings under the store's stats lock. */
export const knowledgeTermDf = pgTable(
  'knowledge_term_df',
  {
    storeId: text('store_id').notNull(),
    term: text('term').notNull(),
    df: integer('df').notNull(),
  },
  (t) => [primaryKey({ name: 'knowledge_term_df_pk', columns: [t.storeId, t.term] })],
);

/**
 * A store's corpus statistics (BM25's N and average length), kept exact: every index or removal
 * locks this row first and changes it in the same transaction as the postings.
 */
export const knowledgeTermStats = pgTable('knowledge_term_stats', {
  storeId: text('store_id').primaryKey(),
  docCount: bigint('doc_count', { mode: 'number' }).notNull().default(0),
  totalLength: bigint('total_length', { mode: 'number' }).notNull().default(0),
});
