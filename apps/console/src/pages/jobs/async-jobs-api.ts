import { ApiError, errorFromResponse } from '../../api/client.ts';

/**
 * /api/v1/async/jobs, called like an application calls it: with an API key of the project (the
 * key of this browser tab, as for files and batches).
 */
export type AsyncJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelling' | 'cancelled';
export const ASYNC_JOB_STATUSES: AsyncJobStatus[] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelling',
  'cancelled',
];
/** still running: the page refreshes while any job is in one of these */
export const LIVE_JOB_STATUSES: AsyncJobStatus[] = ['queued', 'running', 'cancelling'];

export interface AsyncJob {
  id: string;
  endpoint: string;
  model: string | null;
  status: AsyncJobStatus;
  created_at: number;
  completed_at: number | null;
  attempts: number;
  request_id: string | null;
  result: unknown;
  error: { message: string; code: string | null; status_code: number | null } | null;
  callback_url: string | null;
}

async function call<T>(apiKey: string, method: string, path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { method, headers: { authorization: `Bearer ${apiKey}` } });
  } catch {
    throw new ApiError(0, 'network_error', 'the server could not be reached');
  }
  if (!res.ok) throw await errorFromResponse(res);
  return (await res.json()) as T;
}

/** the newest 100 jobs of the key's project, of one status or all */
export async function listAsyncJobs(apiKey: string, status?: AsyncJobStatus): Promise<AsyncJob[]> {
  const query = new URLSearchParams({ limit: '100' });
  if (status) query.set('status', status);
  return (await call<{ data: AsyncJob[] }>(apiKey, 'GET', `/api/v1/async/jobs?${query}`)).data;
}

export const cancelAsyncJob = (apiKey: string, id: string) =>
  call<AsyncJob>(apiKey, 'DELETE', `/api/v1/async/jobs/${encodeURIComponent(id)}`);
