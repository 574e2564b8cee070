import type { DbOrTx } from '../../../db/client.ts';
import type { JobEngine } from '../../jobs/index.ts';
import type { Payer } from '../payer.ts';

export const INGEST_QUEUE = 'knowledge.ingest';

/** `key_id` or `user_id`: who added the document; its embeddings run (and are metered) as them */
export type IngestPayload = {
  store_id: string;
  file_id: string;
  /** the file's generation this job makes chunks for: a job of an older one does nothing */
  generation: number;
} & Payer;

/** One job per document, in the caller's transaction (the file row and its job commit together). */
export async function enqueueIngest(jobs: JobEngine, tx: DbOrTx, orgId: string, p: IngestPayload) {
  const job = await jobs.enqueue({ queue: INGEST_QUEUE, orgId, payload: p, maxAttempts: 8 }, tx);
  return job.id;
}
