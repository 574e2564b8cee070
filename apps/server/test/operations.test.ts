import { startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const METRICS_TOKEN = 'metrics-token-for-tests';
let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ MAAS_METRICS_TOKEN: METRICS_TOKEN });
});
afterAll(async () => {
  await ts?.close();
});

describe('operations baseline', () => {
  it('answers health and readiness without credentials', async () => {
    expect(await (await fetch(`${ts.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${ts.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } });
  });

  it('exports Prometheus metrics with a request histogram by route and status', async () => {
    await ts.admin.get('/api/v1/projects');
    await ts.client().get('/api/v1/projects');
    const text = await (
      await fetch(`${ts.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(text).toContain('# TYPE maas_http_request_duration_seconds histogram');
    expect(text).toMatch(
      /maas_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/projects",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /maas_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/projects",status="401"\} \d+/,
    );
    expect(text).toContain('maas_process_resident_memory_bytes');
  });

  it('returns a request id on every response and keeps a sane one from the caller', async () => {
    const mine = await fetch(`${ts.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(mine.headers.get('x-request-id')).toBe('abc-123');
    const bogus = await fetch(`${ts.url}/healthz`, { headers: { 'x-request-id': 'has spaces and <tags>' } });
    expect(bogus.headers.get('x-request-id')).toMatch(/^req_[0-9a-z]{26}$/);
  });

  it('publishes the OpenAPI 3.1 document and the interactive docs', async () => {
    const spec = await (await fetch(`${ts.url}/openapi.json`)).json();
    expect(spec.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/auth/login',
      '/api/v1/orgs',
      '/api/v1/projects/{id}',
      '/api/v1/keys',
      '/api/v1/audit-events/verify',
    ]) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
    const docs = await fetch(`${ts.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });
});
