import { createFileService } from './file-service.ts';
import { registerIngestion } from './ingest/ingest-job.ts';
import type { KnowledgeDeps } from './ports.ts';
import { createStoreService } from './service.ts';

/** The knowledge module: vector stores, their files, ingestion on the job engine, search. */
export function createKnowledge(deps: KnowledgeDeps) {
  const files = createFileService(deps);
  const stores = createStoreService(deps, files);
  registerIngestion(deps);
  let timer: NodeJS.Timeout | undefined;
  return {
    deps,
    stores,
    files,
    /** sweeps expired stores every `sweepMs` (0: never) */
    start(sweepMs: number) {
      if (sweepMs <= 0 || timer) return;
      const tick = () =>
        void stores
          .sweepExpired()
          .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'expired vector store sweep failed'));
      timer = setInterval(tick, sweepMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

export type Knowledge = ReturnType<typeof createKnowledge>;
