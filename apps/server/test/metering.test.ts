import { startTestServer, type TestServer } from '@maas/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../src/modules/metering/index.ts';

let ts: TestServer;
let orgId: string;
let projects: string[];
let seq = 0;

function usage(over: Partial<UsageRecord> = {}): UsageRecord {
  seq += 1;
  return {
    requestId: `req_test_${seq}`,
    orgId,
    projectId: projects[0]!,
    keyId: 'key_test',
    modelName: 'chat-a',
    endpoint: 'chat.completions',
    outcome: 'success',
    httpStatus: 200,
    promptTokens: 10,
    completionTokens: 5,
    latencyMs: 40,
    createdAt: new Date(),
    ...over,
  };
}

async function write(records: UsageRecord[]) {
  for (const r of records) ts.server.services.metering.writer.write(r);
  await ts.server.services.metering.writer.flush();
}

beforeAll(async () => {
  ts = await startTestServer();
  orgId = (await ts.admin.get('/api/v1/me')).body.org.id;
  const second = await ts.admin.post('/api/v1/projects', { name: 'second' });
  projects = [
    (await ts.admin.get('/api/v1/projects')).body.data.find((p: { name: string }) => p.name === 'default').id,
    second.body.id,
  ];
});
afterAll(async () => {
  await ts?.close();
});

describe('usage rollups and the usage API', () => {
  it('groups by project and model per hour, with totals and percentiles', async () => {
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    await write([
      ...Array.from({ length: 6 }, (_, i) =>
        usage({ projectId: projects[0], modelName: 'chat-a', latencyMs: 30 + i, createdAt: hour }),
      ),
      ...Array.from({ length: 4 }, () =>
        usage({
          projectId: projects[1],
          modelName: 'chat-b',
          promptTokens: 100,
          completionTokens: 50,
          latencyMs: 900,
          createdAt: hour,
        }),
      ),
      usage({
        projectId: projects[1],
        modelName: 'chat-b',
        outcome: 'upstream_error',
        httpStatus: 502,
        promptTokens: 0,
        completionTokens: 0,
        latencyMs: 3000,
        createdAt: hour,
      }),
    ]);
    const res = await ts.admin.get(
      `/api/v1/usage?group_by=project,model&granularity=hour&from=${encodeURIComponent(new Date(hour.getTime() - 1).toISOString())}`,
    );
    expect(res.status).toBe(200);
    const a = res.body.data.find((r: { model: string }) => r.model === 'chat-a');
    const b = res.body.data.find((r: { model: string }) => r.model === 'chat-b');
    expect(a).toMatchObject({
      project_id: projects[0],
      requests: 6,
      errors: 0,
      prompt_tokens: 60,
      completion_tokens: 30,
      total_tokens: 90,
      bucket_start: hour.toISOString(),
    });
    expect(a.latency_p50_ms).toBeLessThanOrEqual(50);
    expect(b).toMatchObject({
      project_id: projects[1],
      requests: 5,
      errors: 1,
      prompt_tokens: 400,
      completion_tokens: 200,
    });
    expect(b.latency_p95_ms).toBeGreaterThan(1000);
    expect(res.body.totals[0]).toMatchObject({
      requests: 11,
      errors: 1,
      prompt_tokens: 460,
      completion_tokens: 230,
    });
  });

  it('counts a request id once however often it is written', async () => {
    const before =
      (await ts.admin.get('/api/v1/usage?group_by=model&model=once')).body.totals[0]?.requests ?? 0;
    const r = usage({ modelName: 'once' });
    await write([r, r]);
    await write([r]);
    const after = await ts.admin.get('/api/v1/usage?group_by=model&model=once');
    expect(after.body.totals[0].requests - before).toBe(1);
  });

  it('rolls a fresh batch up exactly as a retried one (summed by the writer vs per new event in SQL)', async () => {
    const db = ts.server.services.database.db;
    const at = new Date(Date.UTC(2025, 0, 31, 23, 59, 59, 999)); // last ms of an hour, a day and a month
    const shapes: Partial<UsageRecord>[] = [
      { latencyMs: 0 },
      { latencyMs: 25 },
      { latencyMs: 26, outcome: 'client_abort', httpStatus: 499 },
      { latencyMs: 60_000, cachedTokens: 3, reasoningTokens: 7, costNanos: 1_500_000, currency: 'EUR' },
      { latencyMs: 70_000, outcome: 'timeout', httpStatus: 504, costNanos: 2_000_000, currency: 'EUR' },
      { latencyMs: 400, createdAt: new Date(at.getTime() + 1) }, // the next hour, day and month
    ];
    const batch = (model: string) => shapes.map((s) => usage({ modelName: model, createdAt: at, ...s }));
    await write(batch('rolled-fresh'));
    const retried = batch('rolled-retried');
    await write([retried[0]!]);
    await write(retried); // one event already written: only the others may count
    const rollups = async (model: string) =>
      (
        (await db.execute(
          sql`select granularity, bucket_start, currency, requests, errors, prompt_tokens, completion_tokens,
                cached_tokens, reasoning_tokens, cost_nanos, latency_ms_sum, latency_hist
              from usage_rollups where model_name = ${model} order by granularity, bucket_start, currency`,
        )) as unknown as { rows: Record<string, unknown>[] }
      ).rows.map(
        (r): Record<string, unknown> => ({
          // node-postgres reads bigint as text
          ...Object.fromEntries(
            Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v]),
          ),
          bucket_start: new Date(r.bucket_start as string).toISOString(),
        }),
      );
    const fresh = await rollups('rolled-fresh');
    expect(fresh).toEqual(await rollups('rolled-retried'));
    // 2 granularities x (this hour: USD + EUR, next hour: USD)
    expect(fresh).toHaveLength(6);
    const hourUsd = fresh.find(
      (r) =>
        r.granularity === 'hour' && r.currency === 'USD' && r.bucket_start === '2025-01-31T23:00:00.000Z',
    );
    expect(hourUsd).toMatchObject({ requests: 3, errors: 1, latency_ms_sum: 51 });
    expect(hourUsd!.latency_hist).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const dayEur = fresh.find((r) => r.granularity === 'day' && r.currency === 'EUR');
    expect(dayEur).toMatchObject({ requests: 2, errors: 1, cost_nanos: 3_500_000, cached_tokens: 3 });
    expect(dayEur!.latency_hist).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('exports CSV', async () => {
    const res = await fetch(`${ts.url}/api/v1/usage?group_by=model&format=csv`, {
      headers: { authorization: `Bearer ${ts.admin.token}` },
    });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const [header, ...lines] = (await res.text()).trim().split('\n');
    expect(header).toContain('bucket_start,model,currency,requests');
    expect(lines.length).toBeGreaterThan(0);
  });

  it('rejects unknown dimensions and inverted ranges with 400', async () => {
    expect((await ts.admin.get('/api/v1/usage?group_by=planet')).status).toBe(400);
    expect(
      (await ts.admin.get('/api/v1/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).status,
    ).toBe(400);
  });
});

describe('price book', () => {
  it('prices each request at the price in effect when it was made', async () => {
    const modelId = 'mdl_pricebooktest00000000000000';
    await ts.server.services.database.db.execute(
      sql`insert into models (id, org_id, name, type) values (${modelId}, ${orgId}, 'priced', 'chat')`,
    );
    const jan = await ts.admin.post('/api/v1/prices', {
      model_id: modelId,
      currency: 'usd',
      input_per_million: 1,
      output_per_million: 2,
      effective_from: '2026-01-01T00:00:00Z',
    });
    expect(jan.status).toBe(201);
    expect(jan.body).toMatchObject({
      currency: 'USD',
      input_per_million: 1,
      cached_input_per_million: 1,
      output_per_million: 2,
      reasoning_per_million: 2,
    });
    await ts.admin.post('/api/v1/prices', {
      model_id: modelId,
      currency: 'USD',
      input_per_million: 3,
      output_per_million: 6,
      cached_input_per_million: 0.3,
      effective_from: '2026-06-01T00:00:00Z',
    });
    await new Promise((r) => setTimeout(r, 50));
    const book = ts.server.services.metering.priceBook;
    expect(book.priceAt(modelId, null, new Date('2025-12-31T00:00:00Z'))).toBeNull();
    expect(book.priceAt(modelId, null, new Date('2026-03-01T00:00:00Z'))?.inputNanos).toBe(1000);
    const june = book.priceAt(modelId, null, new Date('2026-07-01T00:00:00Z'))!;
    expect(june.inputNanos).toBe(3000);
    const { costNanos } = await import('../src/modules/metering/index.ts');
    // 1,000 prompt tokens of which 400 cached, 500 completion tokens
    expect(
      costNanos(june, { promptTokens: 1000, cachedTokens: 400, completionTokens: 500, reasoningTokens: 0 }),
    ).toBe(600 * 3000 + 400 * 300 + 500 * 6000);
    expect((await ts.admin.request('DELETE', `/api/v1/prices/${jan.body.id}`)).status).toBe(409);
    expect(
      (
        await ts.admin.post('/api/v1/prices', {
          model_id: 'mdl_nope',
          currency: 'USD',
          input_per_million: 1,
          output_per_million: 1,
        })
      ).status,
    ).toBe(404);
  });
});

describe('bills', () => {
  it('builds a statement per project and model, finalizes it, and then it never changes', async () => {
    const lastMonth = new Date();
    lastMonth.setUTCDate(1);
    lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
    const period = lastMonth.toISOString().slice(0, 7);
    await write([
      usage({
        projectId: projects[0],
        modelName: 'chat-a',
        createdAt: lastMonth,
        costNanos: 2_500_000,
        currency: 'USD',
      }),
      usage({
        projectId: projects[0],
        modelName: 'chat-a',
        createdAt: lastMonth,
        costNanos: 2_500_000,
        currency: 'USD',
      }),
      usage({
        projectId: projects[1],
        modelName: 'chat-b',
        createdAt: lastMonth,
        costNanos: 1_000_000,
        currency: 'USD',
      }),
    ]);
    const draft = await ts.admin.post('/api/v1/bills', { period });
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({
      period,
      status: 'draft',
      totals: { USD: { requests: 3, prompt_tokens: 30, cost: 0.006 } },
    });
    expect(draft.body.lines).toHaveLength(2);
    expect(draft.body.lines.find((l: { model: string }) => l.model === 'chat-a')).toMatchObject({
      project_id: projects[0],
      requests: 2,
      cost: 0.005,
    });

    const final = await ts.admin.post(`/api/v1/bills/${draft.body.id}/finalize`, {});
    expect(final.status).toBe(200);
    expect(final.body.status).toBe('finalized');
    expect((await ts.admin.post(`/api/v1/bills/${draft.body.id}/finalize`, {})).status).toBe(409);

    await write([usage({ createdAt: lastMonth, costNanos: 9_000_000, currency: 'USD' })]);
    const again = await ts.admin.post('/api/v1/bills', { period });
    expect(again.body.totals.USD.requests).toBe(3);
    const refusal = await ts.server.services.database.db
      .execute(sql`update bills set status = 'draft' where id = ${draft.body.id}`)
      .then(
        () => 'accepted',
        (err: Error & { cause?: Error }) => String(err.cause?.message ?? err.message),
      );
    expect(refusal).toMatch(/finalized/);

    const csv = await fetch(`${ts.url}/api/v1/bills/${draft.body.id}?format=csv`, {
      headers: { authorization: `Bearer ${ts.admin.token}` },
    });
    const rows = (await csv.text()).trim().split('\n');
    expect(rows[0]).toContain('period,status,project_id,model,currency,requests');
    expect(rows).toHaveLength(3);
    expect((await ts.admin.get('/api/v1/bills')).body.data.map((b: { id: string }) => b.id)).toContain(
      draft.body.id,
    );
  });

  it('refuses to finalize a month that has not ended', async () => {
    const period = new Date().toISOString().slice(0, 7);
    const draft = await ts.admin.post('/api/v1/bills', { period });
    expect((await ts.admin.post(`/api/v1/bills/${draft.body.id}/finalize`, {})).status).toBe(422);
  });
});

describe('usage retention', () => {
  it('keeps events in monthly partitions and drops months past the retention', async () => {
    const db = ts.server.services.database.db;
    const parts = await db.execute(
      sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent where p.relname = 'usage_events' order by 1`,
    );
    const names = (parts as unknown as { rows: { name: string }[] }).rows.map((r) => r.name);
    const now = new Date();
    const thisMonth = `usage_events_${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(names).toContain(thisMonth);
    expect(names).toContain('usage_events_default');

    const old = new Date(Date.UTC(2020, 0, 15));
    await write([usage({ createdAt: old, modelName: 'ancient' })]);
    const dropped = await ts.server.services.metering.partitions.dropExpired(new Date(Date.UTC(2021, 6, 1)));
    expect(dropped).toEqual([]); // the 2020 row was in the default partition: deleted row-wise
    const left = await db.execute(
      sql`select count(*)::int as n from usage_events where model_name = 'ancient'`,
    );
    expect((left as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(0);
    const future = new Date(Date.UTC(now.getUTCFullYear() + 3, 0, 1));
    const gone = await ts.server.services.metering.partitions.dropExpired(future);
    expect(gone).toContain(thisMonth);
    // rollups outlive the raw events
    expect(
      (await ts.admin.get('/api/v1/usage?group_by=model&model=chat-a')).body.totals[0].requests,
    ).toBeGreaterThan(0);
  });
});
