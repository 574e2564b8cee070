import { startTestServer, type TestServer } from '@maas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fillPath,
  type JsonSchema,
  listOperations,
  type Operation,
  sampleBody,
} from './support/openapi-routes.ts';

/**
 * Throws malformed JSON, wrong types, unknown fields, oversized bodies and bad ids at every
 * documented route: each must answer 4xx in the error envelope, never a 5xx, and the server lives on.
 */
const BODY_LIMIT = 64 * 1024;
let ts: TestServer;
let ops: Operation[];
let inferenceKey: string;

beforeAll(async () => {
  ts = await startTestServer({ MAAS_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  ops = (await listOperations(ts.admin)).filter(
    (o) => !(o.method === 'POST' && o.path === '/api/v1/auth/logout'),
  );
  const project = (await ts.admin.get('/api/v1/projects')).body.data[0].id;
  inferenceKey = (await ts.admin.post('/api/v1/keys', { name: 'fuzz', project_id: project })).body.key;
});
afterAll(async () => {
  await ts?.close();
});

const badIds = [
  '%00',
  'x'.repeat(300),
  '..%2F..%2Fetc%2Fpasswd',
  "'%20OR%201%3D1--",
  '%F0%9F%92%A9',
  '-1',
  'null',
];

function wrongTypeFor(schema: JsonSchema | undefined): unknown {
  const type = Array.isArray(schema?.type) ? schema?.type[0] : schema?.type;
  switch (type) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return 'not-a-number';
    case 'boolean':
      return 'yes please';
    case 'array':
      return 'not-an-array';
    default:
      return 42;
  }
}

function* badRequests(
  op: Operation,
): Generator<{ label: string; path: string; body?: string | undefined; headers?: Record<string, string> }> {
  const path = fillPath(op.path, {});
  for (const id of badIds) {
    if (op.params.length) yield { label: `bad id ${id.slice(0, 20)}`, path: op.path.replace(/\{\w+\}/g, id) };
  }
  if (op.method === 'GET' && op.query.includes('limit')) {
    for (const q of [
      'limit=-1',
      'limit=abc',
      'limit=100000',
      `cursor=${'z'.repeat(500)}`,
      'unknown_filter=1',
      'from=yesterday',
    ]) {
      yield { label: `query ${q.slice(0, 20)}`, path: `${path}?${q}` };
    }
  }
  if (!['POST', 'PUT', 'PATCH'].includes(op.method)) return;
  const json = { 'content-type': 'application/json' };
  yield { label: 'malformed json', path, body: '{"name": ', headers: json };
  yield { label: 'json array', path, body: '[1,2,3]', headers: json };
  yield { label: 'json string', path, body: '"hello"', headers: json };
  yield {
    label: 'wrong content type',
    path,
    body: 'name=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
  yield {
    label: 'oversized',
    path,
    body: JSON.stringify({ name: 'x'.repeat(BODY_LIMIT + 10) }),
    headers: json,
  };
  const valid = sampleBody(op.bodySchema);
  if (valid && typeof valid === 'object' && !Array.isArray(valid)) {
    yield {
      label: 'unknown field',
      path,
      body: JSON.stringify({ ...valid, surprise_field: true }),
      headers: json,
    };
    for (const [name, schema] of Object.entries(op.bodySchema?.properties ?? {})) {
      yield {
        label: `wrong type ${name}`,
        path,
        body: JSON.stringify({ ...valid, [name]: wrongTypeFor(schema) }),
        headers: json,
      };
      if (schema?.type === 'string')
        yield {
          label: `NUL in ${name}`,
          path,
          body: JSON.stringify({ ...valid, [name]: 'a\u0000b' }),
          headers: json,
        };
      yield {
        label: `null ${name}`,
        path,
        body: JSON.stringify({ ...valid, [name]: { nested: [null] } }),
        headers: json,
      };
    }
  }
}

describe('bad input', () => {
  it('gets a 4xx in the right envelope on every route, never a 5xx', async () => {
    let sent = 0;
    const failures: string[] = [];
    for (const op of ops) {
      const openAi = op.path.startsWith('/v1');
      const token = openAi ? inferenceKey : ts.admin.token;
      for (const req of badRequests(op)) {
        const res = await fetch(`${ts.url}${req.path}`, {
          method: op.method,
          headers: { authorization: `Bearer ${token}`, ...req.headers },
          body: req.body,
        });
        sent++;
        const text = await res.text();
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
        const envelopeOk = openAi
          ? typeof body?.error?.message === 'string' && typeof body?.error?.type === 'string'
          : typeof body?.error?.code === 'string' && typeof body?.error?.message === 'string';
        if (res.status < 400 || res.status >= 500 || !envelopeOk) {
          failures.push(`${op.method} ${op.path} [${req.label}] → ${res.status} ${text.slice(0, 160)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(200);
    expect((await fetch(`${ts.url}/healthz`)).status).toBe(200);
  });

  it('answers unknown routes and methods with the envelope', async () => {
    const res = await ts.admin.get('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const v1 = await ts.client(inferenceKey).get('/v1/nothing-here');
    expect(v1.status).toBe(404);
    expect(v1.body.error).toMatchObject({ type: expect.any(String), message: expect.any(String) });
  });
});
