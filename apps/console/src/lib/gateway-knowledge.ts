import { ApiError, errorFromResponse } from '../api/client.ts';

/**
 * /v1/vector_stores (the knowledge bases), called like an application calls them: with the API key
 * of this tab. Stores, their files and searches belong to the key's project.
 */

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export type Ranker = 'auto' | 'none' | 'default-2024-11-15';

/** OpenAI's VectorStore, plus the settings maas keeps */
export interface VectorStore {
  id: string;
  name: string;
  description: string | null;
  usage_bytes: number;
  /** epoch seconds */
  created_at: number;
  last_active_at: number;
  status: 'in_progress' | 'completed' | 'expired';
  file_counts: FileCounts;
  embedding_model: string;
  dimensions: number | null;
  chunking_strategy: {
    type: 'static';
    static: {
      max_chunk_size_tokens: number;
      chunk_overlap_tokens: number;
      splitter?: Splitter;
      parent_chunk_size_tokens?: number;
    };
  };
  retrieval: {
    ranker: Ranker;
    max_num_results: number;
    score_threshold: number;
    rerank_model?: string | null;
  };
}

export type Splitter = 'recursive' | 'heading' | 'parent_child';
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

/** OpenAI's VectorStoreFile, plus `filename`, `chunk_count` and `stages` */
export interface VectorStoreFile {
  id: string;
  vector_store_id: string;
  status: FileStatus;
  usage_bytes: number;
  created_at: number;
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

async function call<T>(apiKey: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'the server could not be reached');
  }
  if (!res.ok) throw await errorFromResponse(res);
  return (await res.json()) as T;
}

const store = (id: string) => `/v1/vector_stores/${encodeURIComponent(id)}`;

export const listStores = async (apiKey: string) =>
  (await call<{ data: VectorStore[] }>(apiKey, 'GET', '/v1/vector_stores?limit=100')).data;

export const getStore = (apiKey: string, id: string) => call<VectorStore>(apiKey, 'GET', store(id));

export const createStore = (
  apiKey: string,
  body: {
    name: string;
    embedding_model?: string;
    chunking_strategy?: {
      type: 'static';
      static: { max_chunk_size_tokens: number; chunk_overlap_tokens: number; splitter: Splitter };
    };
    retrieval?: { rerank_model: string };
  },
) => call<VectorStore>(apiKey, 'POST', '/v1/vector_stores', body);

export const deleteStore = (apiKey: string, id: string) =>
  call<{ deleted: boolean }>(apiKey, 'DELETE', store(id));

export const listStoreFiles = async (apiKey: string, id: string) =>
  (await call<{ data: VectorStoreFile[] }>(apiKey, 'GET', `${store(id)}/files?limit=100`)).data;

export const attachFile = (apiKey: string, id: string, fileId: string) =>
  call<VectorStoreFile>(apiKey, 'POST', `${store(id)}/files`, { file_id: fileId });

export const detachFile = (apiKey: string, id: string, fileId: string) =>
  call<{ deleted: boolean }>(apiKey, 'DELETE', `${store(id)}/files/${encodeURIComponent(fileId)}`);

export const fileChunks = async (apiKey: string, id: string, fileId: string) =>
  (
    await call<{ data: { text: string }[] }>(
      apiKey,
      'GET',
      `${store(id)}/files/${encodeURIComponent(fileId)}/content`,
    )
  ).data;

export const searchStore = async (
  apiKey: string,
  id: string,
  body: { query: string; max_num_results: number; ranking_options: { ranker: Ranker } },
) => (await call<{ data: SearchHit[] }>(apiKey, 'POST', `${store(id)}/search`, body)).data;

/** The models this key may call (OpenAI's /v1/models), for the embedding model of a new store. */
export const listKeyModels = async (apiKey: string) =>
  (await call<{ data: { id: string; type?: string }[] }>(apiKey, 'GET', '/v1/models')).data;
