import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../../db/client.ts';
import {
  knowledgeChunkLengths,
  knowledgeTermDf,
  knowledgeTermPostings,
  knowledgeTermStats,
} from './schema.ts';
import { tokenizeForIndex } from './tokenize.ts';

/** rows per INSERT: 4 parameters a posting, well under PostgreSQL's 65,535 */
const INSERT_BATCH = 4000;

/** Runs fn in a transaction: a new one on a database, a savepoint inside an open transaction. */
function inTransaction<T>(db: DbOrTx, fn: (tx: DbOrTx) => Promise<T>): Promise<T> {
  return (db as Db).transaction((tx) => fn(tx));
}

/**
 * Takes the store's statistics row for the rest of the transaction (creating it if new): index and
 * removal of one store run one after the other, so the counts stay exact when two files of a store
 * are indexed at once, or the same chunk is indexed twice. Search never takes it.
 */
async function lockStoreStats(tx: DbOrTx, storeId: string): Promise<void> {
  await tx.insert(knowledgeTermStats).values({ storeId }).onConflictDoNothing();
  await tx.execute(
    sql`select 1 from ${knowledgeTermStats} where ${knowledgeTermStats.storeId} = ${storeId} for update`,
  );
}

/**
 * Deletes chunks' postings and lengths; returns how many chunks were indexed, their total length,
 * and per term how many of them held it (subtracted from `dfDelta`).
 */
async function deleteChunks(
  tx: DbOrTx,
  storeId: string,
  chunkIds: string[],
  dfDelta: Map<string, number>,
): Promise<{ docs: number; length: number }> {
  let docs = 0;
  let length = 0;
  for (let i = 0; i < chunkIds.length; i += INSERT_BATCH) {
    const ids = chunkIds.slice(i, i + INSERT_BATCH);
    const removed = await tx
      .delete(knowledgeChunkLengths)
      .where(and(eq(knowledgeChunkLengths.storeId, storeId), inArray(knowledgeChunkLengths.chunkId, ids)))
      .returning({ length: knowledgeChunkLengths.length });
    if (removed.length === 0) continue;
    docs += removed.length;
    for (const r of removed) length += r.length;
    const terms = await tx
      .delete(knowledgeTermPostings)
      .where(and(eq(knowledgeTermPostings.storeId, storeId), inArray(knowledgeTermPostings.chunkId, ids)))
      .returning({ term: knowledgeTermPostings.term });
    for (const { term } of terms) dfDelta.set(term, (dfDelta.get(term) ?? 0) - 1);
  }
  return { docs, length };
}

/** Adds each term's change of document frequency; a term no chunk holds any more is dropped. */
async function applyDfDelta(tx: DbOrTx, storeId: string, dfDelta: Map<string, number>): Promise<void> {
  const rows = [...dfDelta].filter(([, d]) => d !== 0).map(([term, df]) => ({ storeId, term, df }));
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const batch = rows.slice(i, i + INSERT_BATCH);
    await tx
      .insert(knowledgeTermDf)
      .values(batch)
      .onConflictDoUpdate({
        target: [knowledgeTermDf.storeId, knowledgeTermDf.term],
        set: { df: sql`${knowledgeTermDf.df} + excluded.df` },
      });
    const falling = batch.filter((r) => r.df < 0).map((r) => r.term);
    if (falling.length > 0) {
      await tx
        .delete(knowledgeTermDf)
        .where(
          and(
            eq(knowledgeTermDf.storeId, storeId),
            inArray(knowledgeTermDf.term, falling),
            sql`${knowledgeTermDf.df} <= 0`,
          ),
        );
    }
  }
}

async function addToStats(tx: DbOrTx, storeId: string, docs: number, length: number): Promise<void> {
  if (docs === 0 && length === 0) return;
  await tx
    .update(knowledgeTermStats)
    .set({
      docCount: sql`${knowledgeTermStats.docCount} + ${docs}`,
      totalLength: sql`${knowledgeTermStats.totalLength} + ${length}`,
    })
    .where(eq(knowledgeTermStats.storeId, storeId));
}

/**
 * Indexes chunks' terms for BM25 (replacing what an already indexed chunk had), and updates the
 * store's document count and total length in the same transaction. A chunk without index terms
 * counts as a document of length 0.
 */
export async function indexChunkTerms(
  db: DbOrTx,
  storeId: string,
  chunks: { id: string; text: string }[],
): Promise<void> {
  if (chunks.length === 0) return;
  const byId = new Map(chunks.map((c) => [c.id, c.text]));
  const lengths: { storeId: string; chunkId: string; length: number }[] = [];
  const postings: { storeId: string; term: string; chunkId: string; tf: number; chunkLength: number }[] = [];
  const dfDelta = new Map<string, number>();
  let totalLength = 0;
  for (const [chunkId, text] of byId) {
    const terms = tokenizeForIndex(text);
    const tf = new Map<string, number>();
    for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + 1);
    lengths.push({ storeId, chunkId, length: terms.length });
    totalLength += terms.length;
    for (const [term, n] of tf) {
      postings.push({ storeId, term, chunkId, tf: n, chunkLength: terms.length });
      dfDelta.set(term, (dfDelta.get(term) ?? 0) + 1);
    }
  }
  await inTransaction(db, async (tx) => {
    await lockStoreStats(tx, storeId);
    const removed = await deleteChunks(tx, storeId, [...byId.keys()], dfDelta);
    for (let i = 0; i < lengths.length; i += INSERT_BATCH) {
      await tx.insert(knowledgeChunkLengths).values(lengths.slice(i, i + INSERT_BATCH));
    }
    for (let i = 0; i < postings.length; i += INSERT_BATCH) {
      await tx.insert(knowledgeTermPostings).values(postings.slice(i, i + INSERT_BATCH));
    }
    await applyDfDelta(tx, storeId, dfDelta);
    await addToStats(tx, storeId, lengths.length - removed.docs, totalLength - removed.length);
  });
}

/** Removes chunks from the store's BM25 index; chunks never indexed are ignored. */
export async function removeChunkTerms(db: DbOrTx, storeId: string, chunkIds: string[]): Promise<void> {
  if (chunkIds.length === 0) return;
  await inTransaction(db, async (tx) => {
    await lockStoreStats(tx, storeId);
    const dfDelta = new Map<string, number>();
    const removed = await deleteChunks(tx, storeId, [...new Set(chunkIds)], dfDelta);
    await applyDfDelta(tx, storeId, dfDelta);
    await addToStats(tx, storeId, -removed.docs, -removed.length);
  });
}
