import type { ApiItem, ApiListPath, ApiPath, ApiPathParam, ApiResponse } from '@maas/contracts';
import type { ActiveContext, ConfigStore, Context } from './config-store.ts';
import { CliError, EXIT, errorFromResponse } from './errors.ts';

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** send credentials (default true) */
  auth?: boolean;
  /** return the body text as is instead of parsing JSON */
  text?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** The admin API's documented path templates that answer `M` (`/api/v1/models/{id}`). */
export type PathOf<M extends HttpMethod> = ApiPath<Lowercase<M>>;
/** What `M path` answers on success, as the server's OpenAPI document says. */
export type ResponseOf<P extends PathOf<M>, M extends HttpMethod = 'GET'> = ApiResponse<P, Lowercase<M>>;

/** `params` fill the template's `{names}` (each URI-encoded). */
export interface CallOptions<P extends string> extends Omit<RequestOptions, 'text'> {
  params?: { [K in ApiPathParam<P>]: string };
}

export interface ApiClient {
  readonly server: string;
  readonly context: Context;
  /** throws a CliError on any status >= 400 */
  request<M extends HttpMethod, P extends PathOf<M>>(
    method: M,
    path: P,
    opts?: CallOptions<P>,
  ): Promise<ResponseOf<P, M>>;
  /** never throws for an HTTP status; still throws when the server cannot be reached */
  raw(method: HttpMethod, path: string, opts?: RequestOptions): Promise<RawResponse>;
  /** every item of a `{data, next_cursor}` list, following cursors (up to `max` items) */
  list<P extends ApiListPath>(path: P, opts?: CallOptions<P>, max?: number): Promise<ApiItem<P>[]>;
}

type TokenPair = ResponseOf<'/api/v1/auth/refresh', 'POST'>;

const REFRESH_MARGIN_MS = 10_000;
const PAGE = 200;

export function timeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.MAAS_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

/** `/api/v1/models/{id}` with `{ id: 'mdl_1' }` → `/api/v1/models/mdl_1`. */
export function fillPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${template}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
}

export function buildUrl(server: string, path: string, query?: Query): string {
  const url = new URL(`${server}${path}`);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  return url.toString();
}

/** One fetch; a network failure or timeout becomes exit code 6 with the server's address. */
export async function send(
  server: string,
  method: string,
  path: string,
  opts: RequestOptions & { headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(buildUrl(server, path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(timeoutMs()),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (err as Error).name === 'TimeoutError'
        ? 'timed out'
        : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new CliError(`cannot reach the server at ${server} (${why})`, EXIT.server, 'unreachable');
  }
  const text = await res.text();
  let body: unknown = text;
  if (!opts.text) {
    try {
      body = text ? JSON.parse(text) : null;
    } catch {}
  }
  return { status: res.status, headers: res.headers, body };
}

/**
 * The admin API client of a context: bearer token (refreshed ahead of expiry and once on a 401,
 * the new pair saved to the config file) or API key.
 */
export function createApiClient(active: ActiveContext, store: ConfigStore): ApiClient {
  const ctx: Context = { ...active.context };
  const server = ctx.server;

  const save = () => {
    if (!active.name) return;
    const name = active.name;
    store.update((config) => {
      const current = config.contexts[name];
      if (!current) return;
      config.contexts[name] = {
        ...current,
        access_token: ctx.access_token,
        refresh_token: ctx.refresh_token,
        access_expires_at: ctx.access_expires_at,
      };
    });
  };

  const refresh = async (): Promise<void> => {
    const res = await send(server, 'POST', '/api/v1/auth/refresh', {
      body: { refresh_token: ctx.refresh_token },
    });
    if (res.status !== 200) {
      if (res.status === 401 || res.status === 400)
        throw new CliError('your session has expired: run `maas login` again', EXIT.auth, 'session_expired');
      throw errorFromResponse(res.status, res.body);
    }
    const pair = res.body as TokenPair;
    ctx.access_token = pair.access_token;
    ctx.refresh_token = pair.refresh_token;
    ctx.access_expires_at = new Date(Date.now() + pair.expires_in * 1000).toISOString();
    save();
  };

  const authHeader = async (): Promise<Record<string, string>> => {
    if (ctx.access_token) {
      const expires = ctx.access_expires_at ? Date.parse(ctx.access_expires_at) : Number.POSITIVE_INFINITY;
      if (ctx.refresh_token && expires - REFRESH_MARGIN_MS < Date.now()) await refresh();
      return { authorization: `Bearer ${ctx.access_token}` };
    }
    if (ctx.api_key) return { authorization: `Bearer ${ctx.api_key}` };
    throw new CliError('not logged in: run `maas login` first', EXIT.auth, 'not_logged_in');
  };

  const raw = async (method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> => {
    if (opts.auth === false) return send(server, method, path, opts);
    let res = await send(server, method, path, { ...opts, headers: await authHeader() });
    const code = (res.body as { error?: { code?: string } } | null)?.error?.code;
    if (res.status === 401 && ctx.access_token && ctx.refresh_token && code !== 'invalid_credentials') {
      await refresh();
      res = await send(server, method, path, { ...opts, headers: await authHeader() });
    }
    return res;
  };

  const client: ApiClient = {
    server,
    context: ctx,
    raw,
    async request<M extends HttpMethod, P extends PathOf<M>>(method: M, path: P, opts: CallOptions<P> = {}) {
      const res = await raw(method, fillPath(path, opts.params), opts);
      if (res.status >= 400) throw errorFromResponse(res.status, res.body);
      // the server's response schema, which the generated types describe, shapes this body
      return res.body as ResponseOf<P, M>;
    },
    async list<P extends ApiListPath>(path: P, opts: CallOptions<P> = {}, max = Number.POSITIVE_INFINITY) {
      const items: ApiItem<P>[] = [];
      let cursor: string | null | undefined;
      do {
        const limit = Math.min(PAGE, max - items.length);
        const res = await raw('GET', fillPath(path, opts.params), {
          query: { ...opts.query, limit, cursor },
        });
        if (res.status >= 400) throw errorFromResponse(res.status, res.body);
        const page = res.body as { data: ApiItem<P>[]; next_cursor?: string | null };
        items.push(...page.data);
        cursor = page.next_cursor;
      } while (cursor && items.length < max);
      return items;
    },
  };
  return client;
}
