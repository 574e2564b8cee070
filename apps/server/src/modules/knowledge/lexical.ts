import type { DbOrTx } from '../../db/client.ts';

/** What knowledge/retrieval/index.ts exports (BM25 term tables, tokenizer, fusion): the agreed interface. */
export interface Lexical {
  indexChunkTerms(tx: DbOrTx, storeId: string, chunks: { id: string; text: string }[]): Promise<void>;
  removeChunkTerms(tx: DbOrTx, storeId: string, chunkIds: string[]): Promise<void>;
  lexicalSearch(
    db: DbOrTx,
    storeIds: string[],
    query: string,
    limit: number,
  ): Promise<{ chunkId: string; score: number }[]>;
  fuseHits(
    dense: { chunkId: string; score: number }[],
    lexical: { chunkId: string; score: number }[],
    opts?: { denseWeight?: number; lexicalWeight?: number },
  ): Array<{
    chunkId: string;
    score: number;
    breakdown: {
      dense: number | null;
      lexical: number | null;
      dense_rank: number | null;
      lexical_rank: number | null;
    };
  }>;
}

/**
 * The lexical half, when the retrieval folder provides it; null otherwise (search is dense only and
 * indexing writes no terms). Loaded by a computed specifier so this module builds without it.
 */
export async function loadLexical(): Promise<Lexical | null> {
  const specifier = './retrieval/index.ts';
  try {
    const mod = (await import(specifier)) as Partial<Lexical>;
    if (
      typeof mod.indexChunkTerms === 'function' &&
      typeof mod.removeChunkTerms === 'function' &&
      typeof mod.lexicalSearch === 'function' &&
      typeof mod.fuseHits === 'function'
    )
      return mod as Lexical;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
  return null;
}
