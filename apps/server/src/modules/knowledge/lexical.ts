import type { DbOrTx } from '../../db/client.ts';
import * as retrieval from './retrieval/index.ts';

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

/** The lexical half (knowledge/retrieval): BM25 over its own term tables, and fusion with dense hits. */
export async function loadLexical(): Promise<Lexical | null> {
  return retrieval;
}
