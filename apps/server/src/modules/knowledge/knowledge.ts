import { createFileService } from './file-service.ts';
import { registerIngestion } from './ingest/ingest-job.ts';
import type { KnowledgeDeps } from './ports.ts';
import { createStoreService } from './service.ts';

/** The knowledge module: vector stores, their files, ingestion on the job engine, search. */
export function createKnowledge(deps: KnowledgeDeps) {
  const files = createFileService(deps);
  const stores = createStoreService(deps, files);
  registerIngestion(deps);
  return { deps, stores, files };
}

export type Knowledge = ReturnType<typeof createKnowledge>;
