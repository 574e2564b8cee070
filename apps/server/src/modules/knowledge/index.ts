export { type AdminKnowledgeRoutesOptions, adminKnowledgeRoutes } from './admin-routes.ts';
export { createFileSearchPort } from './file-search.ts';
export { createKnowledge, type Knowledge } from './knowledge.ts';
export { loadLexical } from './lexical.ts';
export type { KnowledgeDeps, KnowledgeFiles, KnowledgeModels } from './ports.ts';
export { createRagHook } from './rag.ts';
export { knowledgeRoutes } from './routes.ts';
export { type SearchHit, searchStores } from './search.ts';
export { createPgVectorIndex, type VectorIndex } from './vector-index.ts';
