import { z } from 'zod';
import type { toVectorStoreFileObject, toVectorStoreObject } from './dto.ts';
import type { VectorStoreRow } from './schema.ts';
import { createStoreBody } from './wire.ts';

/** The console's shapes of knowledge bases: /v1's objects with ISO timestamps and the project named. */

type StoreObject = ReturnType<typeof toVectorStoreObject>;
type FileObject = ReturnType<typeof toVectorStoreFileObject>;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

export function toKnowledgeBaseDto(o: StoreObject, projectId: string) {
  return {
    id: o.id,
    project_id: projectId,
    name: o.name,
    description: o.description,
    status: o.status,
    embedding_model: o.embedding_model,
    dimensions: o.dimensions,
    chunking_strategy: o.chunking_strategy,
    retrieval: o.retrieval,
    metadata: o.metadata,
    expires_after: o.expires_after,
    expires_at: o.expires_at === null ? null : iso(o.expires_at),
    last_active_at: iso(o.last_active_at),
    created_at: iso(o.created_at),
    file_counts: o.file_counts,
    usage_bytes: o.usage_bytes,
  };
}

/** A document of a knowledge base with its pipeline state per stage (parse, split, embed, index). */
export function toDocumentDto(o: FileObject) {
  return {
    id: o.id,
    knowledge_base_id: o.vector_store_id,
    filename: o.filename,
    status: o.status,
    last_error: o.last_error,
    stages: o.stages,
    chunk_count: o.chunk_count,
    usage_bytes: o.usage_bytes,
    attributes: o.attributes,
    chunking_strategy: o.chunking_strategy,
    created_at: iso(o.created_at),
  };
}

/** What the audit log keeps of a knowledge base (its settings, never its content). */
export const auditView = (row: VectorStoreRow) => ({
  id: row.id,
  project_id: row.projectId,
  name: row.name,
  embedding_model: row.embeddingModel,
  chunking: row.chunking,
  retrieval: row.retrieval,
  expires_after: row.expiresAfter,
});

/** ids are opaque, type-prefixed strings; anything else names nothing */
const id = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'not a valid id');
export const projectParams = z.strictObject({ id });
export const kbParams = projectParams.extend({ kb_id: id });
export const documentParams = kbParams.extend({ file_id: id });

/** A knowledge base is created empty: documents are uploaded (or added from /v1/files) after. */
export const createKnowledgeBaseBody = createStoreBody.omit({ file_ids: true });

export const documentsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(['in_progress', 'completed', 'failed', 'cancelled']).optional(),
});
export const knowledgeBasesQuery = documentsQuery.omit({ status: true });
