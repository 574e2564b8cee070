import { ApiError, errorFromResponse } from '../api/client.ts';
import { postForm, type UploadProgress } from './upload.ts';

/**
 * /v1/files and /v1/batches, called like an application calls them: with an API key (the one the
 * playground keeps in this tab). They belong to the key's project.
 */

/** OpenAI's FileObject */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  /** epoch seconds */
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
}

export const UPLOAD_PURPOSES = ['batch', 'user_data', 'assistants', 'fine-tune', 'vision', 'evals'] as const;

export type BatchStatus =
  | 'validating'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';
export const FINAL_BATCH_STATUSES: BatchStatus[] = ['completed', 'failed', 'expired', 'cancelled'];
export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;

/** OpenAI's Batch object (the fields the console shows) */
export interface Batch {
  id: string;
  endpoint: string;
  model: string | null;
  status: BatchStatus;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  completion_window: string;
  errors: { data: { code: string; message: string; line: number | null }[] } | null;
  created_at: number;
  expires_at: number | null;
  completed_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
  metadata: Record<string, string> | null;
}

export async function call<T>(apiKey: string, method: string, path: string, body?: unknown): Promise<T> {
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

export const listFiles = async (apiKey: string) =>
  (await call<{ data: FileObject[] }>(apiKey, 'GET', '/v1/files?limit=1000')).data;

export const deleteFile = (apiKey: string, id: string) =>
  call<{ deleted: boolean }>(apiKey, 'DELETE', `/v1/files/${encodeURIComponent(id)}`);

export const listBatches = async (apiKey: string) =>
  (await call<{ data: Batch[] }>(apiKey, 'GET', '/v1/batches?limit=100')).data;

export const createBatch = (
  apiKey: string,
  body: { input_file_id: string; endpoint: string; metadata?: Record<string, string> },
) => call<Batch>(apiKey, 'POST', '/v1/batches', { ...body, completion_window: '24h' });

export const cancelBatch = (apiKey: string, id: string) =>
  call<Batch>(apiKey, 'POST', `/v1/batches/${encodeURIComponent(id)}/cancel`);

export interface UploadOptions extends UploadProgress {
  purpose: string;
  /** seconds after creation; none: the server's default for the purpose */
  expiresAfterS?: number;
}

/** Uploads with a progress report. */
export function uploadFile(apiKey: string, file: File, opts: UploadOptions): Promise<FileObject> {
  const form = new FormData();
  form.append('purpose', opts.purpose);
  if (opts.expiresAfterS) {
    form.append('expires_after[anchor]', 'created_at');
    form.append('expires_after[seconds]', String(opts.expiresAfterS));
  }
  // the file last: the server reads the fields before it streams the bytes
  form.append('file', file, file.name);
  return postForm<FileObject>('/v1/files', form, apiKey, opts);
}

/** Fetches a file's bytes with the key and hands them to the browser as a download. */
export async function downloadFile(apiKey: string, id: string, filename: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`/v1/files/${encodeURIComponent(id)}/content`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
  } catch {
    throw new ApiError(0, 'network_error', 'the server could not be reached');
  }
  if (!res.ok) throw await errorFromResponse(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename.split(/[\\/]/).pop() || id;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** 1536 → "1.5 KB" */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
