import type { ApiItem, ApiResponse } from '@maas/contracts';
import { api, refreshSession } from '../api/client.ts';
import { sessionStore } from '../api/session.ts';
import { postForm, type UploadProgress } from './upload.ts';

/**
 * The knowledge bases of a project through the console's API (/api/v1/projects/:id/knowledge-bases),
 * with the session: no API key. Embeddings of uploads and searches are metered to the signed-in
 * person in the project.
 */

type KbPath = '/api/v1/projects/{id}/knowledge-bases/{kb_id}';
type DocumentsPath = '/api/v1/projects/{id}/knowledge-bases/{kb_id}/documents';

/** A knowledge base (a vector store of /v1) with its settings */
export type VectorStore = ApiResponse<KbPath>;
export type FileCounts = VectorStore['file_counts'];
export type Ranker = VectorStore['retrieval']['ranker'];
export type StaticChunking = VectorStore['chunking_strategy']['static'];
export type Splitter = NonNullable<StaticChunking['splitter']>;
export const SPLITTERS: Splitter[] = ['recursive', 'heading', 'parent_child'];

/** A document of a knowledge base with its pipeline state per stage */
export type VectorStoreFile = ApiItem<DocumentsPath>;
export type FileStatus = VectorStoreFile['status'];
export type StageName = 'parse' | 'split' | 'embed' | 'index';
export type StageState = NonNullable<VectorStoreFile['stages'][StageName]>;
export const STAGES: StageName[] = ['parse', 'split', 'embed', 'index'];

export type SearchHit = ApiResponse<
  '/api/v1/projects/{id}/knowledge-bases/{kb_id}/search',
  'post'
>['data'][number];
export type ScoreBreakdown = SearchHit['score_breakdown'];

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
