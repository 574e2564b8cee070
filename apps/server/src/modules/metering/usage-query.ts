import type { UsageRow } from '@maas/contracts';
import { and, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { LATENCY_BUCKETS_MS, usageRollups } from './rollups-schema.ts';

export const USAGE_DIMENSIONS = ['org', 'project', 'key', 'user', 'model'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

export interface UsageQuery {
  orgId: string;
  groupBy: UsageDimension[];
  granularity: 'hour' | 'day';
  from: Date;
  to: Date;
  projectId?: string | undefined;
  keyId?: string | undefined;
  /** keys created by this user */
  userId?: string | undefined;
  model?: string | undefined;
}

export type { UsageRow };

/**
 * A key's user is who created it; rollups name the key, so user filters and groups go through the
 * key. A person's own calls from the console (knowledge bases) name the person where a key stands.
 */
const keyOwner = sql`coalesce((select k.created_by from api_keys k where k.id = ${usageRollups.keyId}), case when left(${usageRollups.keyId}, 4) = 'usr_' then ${usageRollups.keyId} end)`;
const keysOf = (orgId: string, userId: string) =>
  sql`(${usageRollups.keyId} = ${userId} or ${usageRollups.keyId} in (select k.id from api_keys k where k.org_id = ${orgId} and k.created_by = ${userId}))`;
type DimField = 'org_id' | 'project_id' | 'key_id' | 'user_id' | 'model';

const columnOf: Record<UsageDimension, { column: SQL; field: DimField }> = {
  org: { column: sql`${usageRollups.orgId}`, field: 'org_id' },
  project: { column: sql`${usageRollups.projectId}`, field: 'project_id' },
  key: { column: sql`${usageRollups.keyId}`, field: 'key_id' },
  user: { column: keyOwner, field: 'user_id' },
  model: { column: sql`${usageRollups.modelName}`, field: 'model' },
};

/** Percentile from the latency histogram, interpolated inside the bucket it falls in. */
export function percentileFromHistogram(hist: number[], p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = p * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const count = hist[i]!;
    if (count > 0 && seen + count >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      const upper = LATENCY_BUCKETS_MS[i] ?? lower;
      return Math.round(lower + ((rank - seen) / count) * (upper - lower));
    }
    seen += count;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
}

const nanosToMoney = (nanos: number) => Math.round(nanos / 1e3) / 1e6;

/** Usage grouped by time bucket and the chosen dimensions, read from the rollups only. */
export async function queryUsage(db: Db, q: UsageQuery): Promise<{ data: UsageRow[]; totals: UsageRow[] }> {
  const where: SQL[] = [
    eq(usageRollups.orgId, q.orgId),
    eq(usageRollups.granularity, q.granularity),
    gte(usageRollups.bucketStart, q.from),
    lt(usageRollups.bucketStart, q.to),
  ];
  if (q.projectId) where.push(eq(usageRollups.projectId, q.projectId));
  if (q.keyId) where.push(eq(usageRollups.keyId, q.keyId));
  if (q.userId) where.push(keysOf(q.orgId, q.userId));
  if (q.model) where.push(eq(usageRollups.modelName, q.model));
  const dims = q.groupBy.map((d) => columnOf[d].column);
  const histSums = LATENCY_BUCKETS_MS.map((_, i) => i)
    .concat(LATENCY_BUCKETS_MS.length)
    .map((i) => sql`coalesce(sum(${usageRollups.latencyHist}[${sql.raw(String(i + 1))}]), 0)::bigint`);
  const result = await db.execute(sql`
    select ${usageRollups.bucketStart} as bucket_start,
      ${sql.join(dims.map((d, i) => sql`${d} as ${sql.identifier(`d${i}`)}`).concat(sql`${usageRollups.currency} as currency`), sql`, `)},
      sum(${usageRollups.requests})::bigint as requests, sum(${usageRollups.errors})::bigint as errors,
      sum(${usageRollups.promptTokens})::bigint as prompt_tokens, sum(${usageRollups.completionTokens})::bigint as completion_tokens,
      sum(${usageRollups.cachedTokens})::bigint as cached_tokens, sum(${usageRollups.reasoningTokens})::bigint as reasoning_tokens,
      sum(${usageRollups.images})::bigint as images, sum(${usageRollups.audioMs})::bigint as audio_ms,
      sum(${usageRollups.characters})::bigint as characters,
      sum(${usageRollups.costNanos})::bigint as cost_nanos, sum(${usageRollups.latencyMsSum})::bigint as latency_ms_sum,
      array[${sql.join(histSums, sql`, `)}] as hist
    from ${usageRollups}
    where ${and(...where)}
    group by ${sql.join([sql`${usageRollups.bucketStart}`, ...dims, sql`${usageRollups.currency}`], sql`, `)}
    order by 1, ${sql.join([...dims, sql`${usageRollups.currency}`], sql`, `)}
  `);
  const totals = new Map<string, { row: UsageRow; hist: number[]; costNanos: number; latencySum: number }>();
  // Both drivers answer raw SQL with `{ rows }`.
  const rows = (result as unknown as { rows: Record<string, unknown>[] }).rows;
  const data = rows.map((r) => {
    const hist = (r.hist as (string | number)[]).map(Number);
    const row = toRow(r, q.groupBy, hist);
    const t = totals.get(row.currency) ?? {
      row: { bucket_start: q.from.toISOString(), ...emptyRow(row.currency) },
      hist: new Array(hist.length).fill(0),
      costNanos: 0,
      latencySum: 0,
    };
    for (const k of [
      'requests',
      'errors',
      'prompt_tokens',
      'completion_tokens',
      'cached_tokens',
      'reasoning_tokens',
      'total_tokens',
      'images',
      'audio_seconds',
      'characters',
    ] as const) {
      t.row[k] += row[k];
    }
    t.costNanos += Number(r.cost_nanos);
    t.latencySum += Number(r.latency_ms_sum);
    hist.forEach((v, i) => {
      t.hist[i] += v;
    });
    totals.set(row.currency, t);
    return row;
  });
  return {
    data,
    totals: [...totals.values()].map(({ row, hist, costNanos, latencySum }) => ({
      ...row,
      cost: nanosToMoney(costNanos),
      latency_avg_ms: row.requests ? Math.round(latencySum / row.requests) : 0,
      latency_p50_ms: percentileFromHistogram(hist, 0.5),
      latency_p95_ms: percentileFromHistogram(hist, 0.95),
    })),
  };
}

function emptyRow(currency: string): Omit<UsageRow, 'bucket_start'> {
  return {
    currency,
    requests: 0,
    errors: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    images: 0,
    audio_seconds: 0,
    characters: 0,
    cost: 0,
    latency_avg_ms: 0,
    latency_p50_ms: 0,
    latency_p95_ms: 0,
  };
}

function toRow(r: Record<string, unknown>, groupBy: UsageDimension[], hist: number[]): UsageRow {
  const requests = Number(r.requests);
  const prompt = Number(r.prompt_tokens);
  const completion = Number(r.completion_tokens);
  const dims: Partial<Record<DimField, string>> = {};
  groupBy.forEach((d, i) => {
    dims[columnOf[d].field] = String(r[`d${i}`] ?? '');
  });
  // Key order is the CSV column order: time, then the chosen dimensions, then the figures.
  const row: UsageRow = {
    bucket_start: new Date(r.bucket_start as string | Date).toISOString(),
    ...dims,
    ...emptyRow(String(r.currency)),
    requests,
    errors: Number(r.errors),
    prompt_tokens: prompt,
    completion_tokens: completion,
    cached_tokens: Number(r.cached_tokens),
    reasoning_tokens: Number(r.reasoning_tokens),
    total_tokens: prompt + completion,
    images: Number(r.images),
    audio_seconds: Number(r.audio_ms) / 1000,
    characters: Number(r.characters),
    cost: nanosToMoney(Number(r.cost_nanos)),
    latency_avg_ms: requests ? Math.round(Number(r.latency_ms_sum) / requests) : 0,
    latency_p50_ms: percentileFromHistogram(hist, 0.5),
    latency_p95_ms: percentileFromHistogram(hist, 0.95),
  };
  return row;
}

export interface UsageTotalFilter {
  orgId: string;
  projectId?: string | undefined;
  keyId?: string | undefined;
  userId?: string | undefined;
  model?: string | undefined;
  /** whole UTC days: the daily rollups are summed */
  fromMs: number;
  /** null: up to now */
  toMs: number | null;
}

/** Tokens and cost (nano-units, every currency together) used by a scope between two day boundaries. */
export async function usageTotal(
  db: Db,
  f: UsageTotalFilter,
): Promise<{ tokens: number; costNanos: number }> {
  const where: SQL[] = [
    eq(usageRollups.orgId, f.orgId),
    eq(usageRollups.granularity, 'day'),
    gte(usageRollups.bucketStart, new Date(f.fromMs)),
  ];
  if (f.toMs !== null) where.push(lt(usageRollups.bucketStart, new Date(f.toMs)));
  if (f.projectId) where.push(eq(usageRollups.projectId, f.projectId));
  if (f.keyId) where.push(eq(usageRollups.keyId, f.keyId));
  if (f.userId) where.push(keysOf(f.orgId, f.userId));
  if (f.model) where.push(eq(usageRollups.modelName, f.model));
  const [row] = await db
    .select({
      tokens: sql<string>`coalesce(sum(${usageRollups.promptTokens} + ${usageRollups.completionTokens}), 0)`,
      costNanos: sql<string>`coalesce(sum(${usageRollups.costNanos}), 0)`,
    })
    .from(usageRollups)
    .where(and(...where));
  return { tokens: Number(row?.tokens ?? 0), costNanos: Number(row?.costNanos ?? 0) };
}
