export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiClient {
  baseUrl: string;
  token: string | undefined;
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  get<T = any>(path: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = any>(path: string): Promise<ApiResponse<T>>;
  /** logs in and keeps the access token for later calls */
  login(email: string, password: string, orgId?: string): Promise<ApiResponse>;
}

/** A tiny JSON client over fetch for tests of the admin API. */
export function createApiClient(baseUrl: string, token?: string): ApiClient {
  const client: ApiClient = {
    baseUrl,
    token,
    async request(method, path, body, headers = {}) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(client.token ? { authorization: `Bearer ${client.token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
    get: (path) => client.request('GET', path),
    post: (path, body) => client.request('POST', path, body ?? {}),
    patch: (path, body) => client.request('PATCH', path, body ?? {}),
    delete: (path) => client.request('DELETE', path),
    async login(email, password, orgId) {
      const res = await client.request('POST', '/api/v1/auth/login', {
        email,
        password,
        ...(orgId ? { org_id: orgId } : {}),
      });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      client.token = res.body.access_token;
      return res;
    },
  };
  return client;
}
