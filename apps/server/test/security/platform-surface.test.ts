import { request } from 'node:http';
import { type FakeUpstream, startFakeUpstream, startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createModel, createProvider, until } from '../support/gateway-setup.ts';

/**
 * The platform's own surface played by an outsider: admin routes behind percent-encoded paths,
 * /metrics, the console's response headers and spreadsheet formulas in usage exports.
 */
const METRICS_TOKEN = 'metrics-token-0123456789';
let ts: TestServer;

/** A raw HTTP GET that sends the path exactly as written (fetch would normalise it). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  ts = await startTestServer({ MAAS_METRICS_TOKEN: METRICS_TOKEN });
});
afterAll(async () => {
  await ts?.close();
});

describe('admin authentication is part of the /api/v1 routes, not of a URL prefix', () => {
  it('answers an encoded path to an admin route with 401 without credentials, never the data', async () => {
    for (const path of ['/%61pi/v1/keys', '/api/%761/users', '/%61%70%69/v1/projects', '/api/v1/%6beys']) {
      const res = await rawGet(ts.url, path);
      expect(res.status, path).not.toBe(200);
      expect([401, 404], path).toContain(res.status);
      expect(res.body).not.toContain('"data"');
    }
    // the same encoded path works with credentials: it is the same route, authenticated alike
    const res = await rawGet(ts.url, '/%61pi/v1/projects', { authorization: `Bearer ${ts.admin.token}` });
    if (res.status === 200) expect(JSON.parse(res.body).data.length).toBeGreaterThan(0);
  });
});

describe('/metrics', () => {
  it('needs the metrics token on the main port', async () => {
    expect((await fetch(`${ts.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${ts.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    // an admin session is not a scrape credential
    const admin = await fetch(`${ts.url}/metrics`, {
      headers: { authorization: `Bearer ${ts.admin.token}` },
    });
    expect(admin.status).toBe(401);
    const ok = await fetch(`${ts.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('maas_http_request_duration_seconds');
  });

  it('is off on the main port without a token, and served by its own listener when one is set', async () => {
    const plain = await startTestServer();
    const separate = await startTestServer({ MAAS_METRICS_PORT: '0' });
    try {
      const off = await fetch(`${plain.url}/metrics`);
      expect(off.status).toBe(404);
      expect((await off.json()).error.message).toContain('MAAS_METRICS_TOKEN');
      expect((await fetch(`${separate.url}/metrics`)).status).toBe(404);
      const url = separate.server.metricsUrl!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('maas_process_resident_memory_bytes');
      expect((await fetch(url.replace('/metrics', '/api/v1/projects'))).status).toBe(404);
    } finally {
      await plain.close();
      await separate.close();
    }
  }, 120_000); // two servers start inside the test
});

describe('console pages', () => {
  it('carry CSP with frame-ancestors, nosniff and a referrer policy; API answers do not need them', async () => {
    const res = await fetch(`${ts.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
  });
});

describe('usage exports', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('never start a CSV cell with a spreadsheet formula, whatever a caller sent as the model', async () => {
    const provider = await createProvider(ts, { name: 'fake-csv', base_url: upstream.url });
    await createModel(ts, {
      name: 'csv-model',
      type: 'chat',
      targets: [{ provider_id: provider, upstream_model: 'chat-small' }],
    });
    const key = await createKey(ts);
    for (const model of ['=HYPERLINK("http://evil.test","x")', '+SUM(1,1)', '@cmd', 'csv-model']) {
      await fetch(`${ts.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      });
    }
    const csv = await until(
      async () => {
        const res = await ts.admin.request('GET', '/api/v1/usage?format=csv&group_by=model&granularity=day');
        const text = String(res.body);
        return text.includes('csv-model') && text.split('\n').length >= 3 ? text : null;
      },
      10_000,
      'usage rows',
    );
    for (const cell of csv.split(/[\n,]/)) {
      expect(cell.replace(/^"/, ''), csv).not.toMatch(/^[=+@\t\r]/);
    }
  });
});
