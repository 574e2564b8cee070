/**
 * Configures a fresh maas through its admin API so its gateway routes to the fake upstream:
 * provider → model → project → API key with scope `inference`. Returns the key's secret.
 */
export interface MaasSetup {
  key: string;
  model: string;
}

async function call(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

export async function setUpMaas(
  baseUrl: string,
  admin: { email: string; password: string },
  upstreamV1Url: string,
  upstreamKey: string,
  model = 'bench-chat',
): Promise<MaasSetup> {
  const login = await call(baseUrl, undefined, 'POST', '/api/v1/auth/login', admin);
  const token: string = login.access_token;
  const provider = await call(baseUrl, token, 'POST', '/api/v1/providers', {
    name: 'bench-upstream',
    type: 'openai-compatible',
    base_url: upstreamV1Url,
    api_key: upstreamKey,
  });
  await call(baseUrl, token, 'POST', '/api/v1/models', {
    name: model,
    type: 'chat',
    targets: [{ provider_id: provider.id, upstream_model: 'fake-chat' }],
  });
  const projects = await call(baseUrl, token, 'GET', '/api/v1/projects');
  const project =
    projects.data?.[0] ?? (await call(baseUrl, token, 'POST', '/api/v1/projects', { name: 'bench' }));
  const issued = await call(baseUrl, token, 'POST', '/api/v1/keys', {
    name: 'bench',
    project_id: project.id,
    scopes: ['inference'],
  });
  return { key: issued.key, model };
}
