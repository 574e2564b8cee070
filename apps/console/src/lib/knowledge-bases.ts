import { api, refreshSession } from '../api/client.ts';
import { sessionStore } from '../api/session.ts';
import { postForm, type UploadProgress } from './upload.ts';

/**
 * The knowledge bases of a project through the console's API (/api/v1/projects/:id/knowledge-bases),
 * with the session: no API key. Embeddings of uploads and searches are metered to the signed-in
 * person in the project.
 */

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export type Ranker = 'auto' | 'none' | 'default-2024-11-15';

/** A knowledge base (a vector store of /v1) with its settings */
export interface VectorStore {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  usage_bytes: number;
  /** ISO 8601 */
  created_at: string;
  last_active_at: string;
  expires_at: string | null;
  expires_after: { anchor: 'last_active_at'; days: number } | null;
  status: 'in_progress' | 'completed' | 'expired';
  file_counts: FileCounts;
  embedding_model: string;
  dimensions: number | null;
  chunking_strategy: { type: 'static'; static: StaticChunking };
  retrieval: {
    ranker: Ranker;
    max_num_results: number;
    score_threshold: number;
    rerank_model?: string | null;
  };
}

export type Splitter = 'recursive' | 'heading' | 'parent_child';
export interface StaticChunking {
  max_chunk_size_tokens: number;
  chunk_overlap_tokens: number;
  splitter?: Splitter;
  parent_chunk_size_tokens?: number;
}
export const SPLITTERS: Splitter[] = ['recursive', 'heading', 'parent_child'];

export type StageName = 'parse' | 'split' | 'embed' | 'index';
export const STAGES: StageName[] = ['parse', 'split', 'embed', 'index'];

export interface StageState {
  /** epoch milliseconds */
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  count?: number;
}

export type FileStatus = 'in_progress' | 'completed' | 'failed' | 'cancelled';

/** A document of a knowledge base with its pipeline state per stage */
export interface VectorStoreFile {
  id: string;
  knowledge_base_id: string;
  status: FileStatus;
  usage_bytes: number;
  /** ISO 8601 */
  created_at: string;
  last_error: { code: string; message: string } | null;
  filename: string;
  chunk_count: number;
  stages: Partial<Record<StageName, StageState>>;
}

export interface ScoreBreakdown {
  dense: number | null;
  lexical: number | null;
  dense_rank: number | null;
  lexical_rank: number | null;
  rerank?: number | null;
  rerank_rank?: number | null;
}

export interface SearchHit {
  file_id: string;
  filename: string;
  score: number;
  chunk_id: string;
  content: { type: 'text'; text: string }[];
  score_breakdown: ScoreBreakdown;
  headings?: string[];
}

const kbs = (project: string) => `/api/v1/projects/${encodeURIComponent(project)}/knowledge-bases`;
const kb = (project: string, id: string) => `${kbs(project)}/${encodeURIComponent(id)}`;

export const listStores = async (project: string) =>
  (await api.get<{ data: VectorStore[] }>(kbs(project), { limit: 200 })).data;

export const getStore = (project: string, id: string) => api.get<VectorStore>(kb(project, id));

export interface StoreSettings {
  name?: string;
  description?: string | null;
  embedding_model?: string;
  chunking_strategy?: { type: 'static'; static: StaticChunking };
  retrieval?: {
    ranker?: Ranker;
    max_num_results?: number;
    score_threshold?: number;
    rerank_model?: string | null;
  };
}

export const createStore = (project: string, body: StoreSettings & { name: string }) =>
  api.post<VectorStore>(kbs(project), body);

/** New chunking settings or another embedding model re-index every document. */
export const updateStore = (project: string, id: string, body: StoreSettings) =>
  api.patch<VectorStore>(kb(project, id), body);

export const deleteStore = (project: string, id: string) => api.del(kb(project, id));

export const listStoreFiles = async (project: string, id: string) =>
  (await api.get<{ data: VectorStoreFile[] }>(`${kb(project, id)}/documents`, { limit: 200 })).data;

export const detachFile = (project: string, id: string, fileId: string) =>
  api.del(`${kb(project, id)}/documents/${encodeURIComponent(fileId)}`);

export const fileChunks = async (project: string, id: string, fileId: string) =>
  (
    await api.get<{ data: { position: number; text: string }[] }>(
      `${kb(project, id)}/documents/${encodeURIComponent(fileId)}/chunks`,
    )
  ).data;

export const searchStore = async (
  project: string,
  id: string,
  body: { query: string; max_num_results: number; ranking_options: { ranker: Ranker } },
) => (await api.post<{ data: SearchHit[] }>(`${kb(project, id)}/search`, body)).data;

/** The embedding and rerank models the project's knowledge bases may use. */
export const listKbModels = async (project: string) =>
  (await api.get<{ data: { name: string; type: 'embedding' | 'rerank' }[] }>(`${kbs(project)}/models`)).data;

/**
 * Uploads a document and adds it, with XMLHttpRequest (the one browser API that reports upload
 * progress) and the session's token.
 */
export async function uploadDocument(
  project: string,
  id: string,
  file: File,
  opts: UploadProgress,
): Promise<VectorStoreFile> {
  const session = sessionStore.get();
  if (session && session.expiresAt - Date.now() < 60_000) await refreshSession();
  const token = sessionStore.get()?.accessToken;
  const form = new FormData();
  form.append('file', file, file.name);
  return postForm<VectorStoreFile>(`${kb(project, id)}/documents/upload`, form, token, opts);
}

/** Every document split, embedded and indexed again. */
export const reindexStore = (project: string, id: string) =>
  api.post<VectorStore>(`${kb(project, id)}/reindex`);
