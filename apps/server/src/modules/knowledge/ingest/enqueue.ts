import type { DbOrTx } from '../../../db/client.ts';
import type { JobEngine } from '../../jobs/index.ts';

export const INGEST_QUEUE = 'knowledge.ingest';

export interface IngestPayload {
  store_id: string;
  file_id: string;
  /** the file's generation this job makes chunks for: a job of an older one does nothing */
  generation: number;
  /** the key the document was added with: embeddings run (and are metered) as this key */
  key_id: string;
}

/** One job per document, in the caller's transaction (the file row and its job commit together). */
export async function enqueueIngest(jobs: JobEngine, tx: DbOrTx, orgId: string, p: IngestPayload) {
  const job = await jobs.enqueue({ queue: INGEST_QUEUE, orgId, payload: p, maxAttempts: 8 }, tx);
  return job.id;
}
