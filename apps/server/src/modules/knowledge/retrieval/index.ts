/** Lexical (BM25) retrieval over knowledge chunks and its fusion with dense search. */
export type { FusedHit, Hit } from './fusion.ts';
export { fuseHits } from './fusion.ts';
export { indexChunkTerms, removeChunkTerms } from './index-terms.ts';
export { lexicalSearch } from './lexical-search.ts';
export { tokenizeForIndex } from './tokenize.ts';
