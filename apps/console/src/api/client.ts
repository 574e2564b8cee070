import { sessionStore, type TokenPair } from './session.ts';

/** An error answered by the server (admin envelope or OpenAI shape), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** the server does not have this route at all (a feature not available in this version) */
  get isMissingRoute(): boolean {
    return this.status === 404 && this.message.startsWith('route ');
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** send the session's access token (default true) */
  auth?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string | null; message?: string; type?: string; details?: unknown };
    };
    if (body.error) {
      return new ApiError(
        res.status,
        body.error.code ?? body.error.type ?? 'error',
        body.error.message ?? res.statusText,
        body.error.details,
      );
    }
  } catch {}
  return new ApiError(
    res.status,
    res.status >= 500 ? 'internal_error' : 'http_error',
    text.slice(0, 200) || res.statusText,
  );
}

let refreshing: Promise<boolean> | null = null;

/** Tabs share the refresh cookie: one rotation at a time, or a tab would present a rotated token. */
function oneTabAtATime<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? (locks.request('maas-refresh', work) as Promise<T>) : work();
}

/**
 * Exchanges the refresh cookie for a new access token (the cookie rotates); one exchange at a time.
 * The cookie is read only with a JSON body and the X-Maas-Csrf header, which a cross-site page
 * cannot send. False when the session is over.
 */
export function refreshSession(): Promise<boolean> {
  refreshing ??= oneTabAtATime(async () => {
    try {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-maas-csrf': '1' },
        body: '{}',
      });
      if (!res.ok) {
        sessionStore.clear();
        return false;
      }
      sessionStore.setFromTokens((await res.json()) as TokenPair);
      return true;
    } catch {
      return false;
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
  const session = opts.auth === false ? null : sessionStore.get();
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (session) headers.authorization = `Bearer ${session.accessToken}`;
  try {
    return await fetch(withQuery(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'the server could not be reached');
  }
}

async function sendWithRefresh(method: string, path: string, opts: RequestOptions): Promise<Response> {
  if (opts.auth !== false) {
    const session = sessionStore.get();
    if (session && session.expiresAt - Date.now() < 30_000) await refreshSession();
  }
  let res = await send(method, path, opts);
  if (res.status === 401 && opts.auth !== false && sessionStore.get()) {
    if (await refreshSession()) res = await send(method, path, opts);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await sendWithRefresh(method, path, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A GET answered with text (CSV exports). */
export async function getText(path: string, query?: Query): Promise<string> {
  return (await sendWithRefresh('GET', path, { query })).text();
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  del: <T = void>(path: string) => request<T>('DELETE', path),
};

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Every item of a cursor-paginated admin list (up to `max`). */
export async function listAll<T>(path: string, query: Query = {}, max = 2000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await api.get<Page<T>>(path, { ...query, limit: 200, cursor });
    items.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
