import type {
  FileBatchRow,
  StaticChunking,
  VectorStoreFileRow,
  VectorStoreFileStatus,
  VectorStoreRow,
} from './schema.ts';

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export const emptyCounts = (): FileCounts => ({
  in_progress: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
  total: 0,
});

export function addCount(counts: FileCounts, status: VectorStoreFileStatus, n: number): FileCounts {
  counts[status] += n;
  counts.total += n;
  return counts;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const staticStrategy = (c: StaticChunking) => ({ type: 'static' as const, static: { ...c } });

/** OpenAI's VectorStore, plus the settings maas keeps (embedding model, chunking, retrieval). */
export function toVectorStoreObject(row: VectorStoreRow, counts: FileCounts, usageBytes: number, now: Date) {
  const expired = row.expiresAt !== null && row.expiresAt <= now;
  return {
    id: row.id,
    object: 'vector_store' as const,
    created_at: seconds(row.createdAt),
    name: row.name ?? '',
    description: row.description,
    usage_bytes: usageBytes,
    file_counts: counts,
    status: expired
      ? ('expired' as const)
      : counts.in_progress > 0
        ? ('in_progress' as const)
        : ('completed' as const),
    expires_after: row.expiresAfter ?? null,
    expires_at: row.expiresAt ? seconds(row.expiresAt) : null,
    last_active_at: seconds(row.lastActiveAt),
    metadata: row.metadata ?? {},
    embedding_model: row.embeddingModel,
    dimensions: row.dimensions,
    chunking_strategy: staticStrategy(row.chunking),
    retrieval: row.retrieval,
  };
}

/** OpenAI's VectorStoreFile, plus `stages` (per-stage timestamps and errors) and `filename`. */
export function toVectorStoreFileObject(row: VectorStoreFileRow) {
  return {
    id: row.fileId,
    object: 'vector_store.file' as const,
    usage_bytes: row.usageBytes,
    created_at: seconds(row.createdAt),
    vector_store_id: row.storeId,
    status: row.status,
    last_error: row.lastError ?? null,
    chunking_strategy: staticStrategy(row.chunking),
    attributes: row.attributes,
    filename: row.filename,
    chunk_count: row.chunkCount,
    stages: row.stages,
  };
}

export function toFileBatchObject(row: FileBatchRow, counts: FileCounts) {
  const status = row.cancelledAt
    ? 'cancelled'
    : counts.in_progress > 0
      ? 'in_progress'
      : counts.failed > 0 && counts.completed === 0
        ? 'failed'
        : 'completed';
  return {
    id: row.id,
    object: 'vector_store.files_batch' as const,
    created_at: seconds(row.createdAt),
    vector_store_id: row.storeId,
    status,
    file_counts: counts,
  };
}
