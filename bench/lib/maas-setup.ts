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
  governance = true,
): Promise<MaasSetup> {
  const login = await call(baseUrl, undefined, 'POST', '/api/v1/auth/login', admin);
  const token: string = login.access_token;
  const provider = await call(baseUrl, token, 'POST', '/api/v1/providers', {
    name: 'bench-upstream',
    type: 'openai-compatible',
    base_url: upstreamV1Url,
    api_key: upstreamKey,
  });
  const created = await call(baseUrl, token, 'POST', '/api/v1/models', {
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
  if (governance) {
    // Limits high enough never to refuse, so every request pays for admission and settlement on
    // the key, its project and its org (rate, tokens, concurrency, quota and budget), and a price.
    await call(baseUrl, token, 'POST', '/api/v1/prices', {
      model_id: created.id,
      currency: 'USD',
      input_per_million: 0.5,
      output_per_million: 1.5,
    });
    const limits = { rpm: 10_000_000, tpm: 10_000_000_000, max_concurrent: 100_000 };
    await call(baseUrl, token, 'POST', '/api/v1/limits', { scope: 'key', scope_id: issued.id, ...limits });
    await call(baseUrl, token, 'POST', '/api/v1/limits', {
      scope: 'project',
      scope_id: project.id,
      ...limits,
      token_quota: 1e13,
      quota_period: 'month',
    });
    await call(baseUrl, token, 'POST', '/api/v1/limits', {
      scope: 'org',
      ...limits,
      budget: 1e9,
      budget_period: 'month',
    });
    await new Promise((r) => setTimeout(r, 200)); // the policy cache reloads on the push
  }
  return { key: issued.key, model };
}
