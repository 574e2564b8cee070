import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { LATENCY_BUCKETS_MS, type usageRollups } from './rollups-schema.ts';
import type { usageEvents } from './schema.ts';

export type UsageRecord = typeof usageEvents.$inferInsert;

export const DEFAULT_CURRENCY = 'USD';

type RollupRow = typeof usageRollups.$inferInsert;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** usage_events columns as written: [record field, column, SQL type, default when the field is absent]. */
const EVENT_COLUMNS: [keyof UsageRecord, string, string, unknown][] = [
  ['requestId', 'request_id', 'text', undefined],
  ['orgId', 'org_id', 'text', undefined],
  ['projectId', 'project_id', 'text', undefined],
  ['keyId', 'key_id', 'text', undefined],
  ['modelId', 'model_id', 'text', null],
  ['modelName', 'model_name', 'text', undefined],
  ['versionId', 'version_id', 'text', null],
  ['providerId', 'provider_id', 'text', null],
  ['upstreamModel', 'upstream_model', 'text', null],
  ['endpoint', 'endpoint', 'text', undefined],
  ['outcome', 'outcome', 'text', undefined],
  ['httpStatus', 'http_status', 'integer', undefined],
  ['errorCode', 'error_code', 'text', null],
  ['stream', 'stream', 'boolean', false],
  ['promptTokens', 'prompt_tokens', 'integer', 0],
  ['completionTokens', 'completion_tokens', 'integer', 0],
  ['cachedTokens', 'cached_tokens', 'integer', 0],
  ['reasoningTokens', 'reasoning_tokens', 'integer', 0],
  ['estimated', 'estimated', 'boolean', false],
  ['attempts', 'attempts', 'integer', 1],
  ['fallbackFrom', 'fallback_from', 'text', null],
  ['latencyMs', 'latency_ms', 'integer', undefined],
  ['ttftMs', 'ttft_ms', 'integer', null],
  ['costNanos', 'cost_nanos', 'bigint', 0],
  ['currency', 'currency', 'text', null],
  ['priceId', 'price_id', 'text', null],
  ['rawUsage', 'raw_usage', 'jsonb', null],
  ['createdAt', 'created_at', 'timestamptz', undefined],
];

const ROLLUP_COLUMNS: [keyof RollupRow, string, string][] = [
  ['granularity', 'granularity', 'text'],
  ['bucketStart', 'bucket_start', 'timestamptz'],
  ['orgId', 'org_id', 'text'],
  ['projectId', 'project_id', 'text'],
  ['keyId', 'key_id', 'text'],
  ['modelName', 'model_name', 'text'],
  ['currency', 'currency', 'text'],
  ['requests', 'requests', 'bigint'],
  ['errors', 'errors', 'bigint'],
  ['promptTokens', 'prompt_tokens', 'bigint'],
  ['completionTokens', 'completion_tokens', 'bigint'],
  ['cachedTokens', 'cached_tokens', 'bigint'],
  ['reasoningTokens', 'reasoning_tokens', 'bigint'],
  ['costNanos', 'cost_nanos', 'bigint'],
  ['latencyMsSum', 'latency_ms_sum', 'bigint'],
  ['latencyHist', 'latency_hist', 'integer[]'],
];
const ROLLUP_KEY = [
  'org_id',
  'granularity',
  'bucket_start',
  'project_id',
  'key_id',
  'model_name',
  'currency',
];

const names = (cols: { 1: string }[]) => cols.map((c) => c[1]).join(', ');
const recordType = (cols: { 1: string; 2: string }[]) => cols.map((c) => `${c[1]} ${c[2]}`).join(', ');
const sums = ROLLUP_COLUMNS.slice(7, 15)
  .map(([, c]) => `${c} = usage_rollups.${c} + excluded.${c}`)
  .join(', ');

/**
 * One statement per batch, whatever its size: the rows travel as a single JSON parameter that the
 * database unpacks itself (jsonb_to_recordset). Thousands of bind parameters built by the query
 * builder cost the request thread far more than the database's work.
 */
function jsonStatement(before: string, after: string) {
  const head = sql.raw(before);
  const tail = sql.raw(after);
  return (rows: unknown[]) => sql`${head}${JSON.stringify(rows)}::jsonb${tail}`;
}

const insertEvents = jsonStatement(
  `insert into usage_events (${names(EVENT_COLUMNS)}) select ${names(EVENT_COLUMNS)} from jsonb_to_recordset(`,
  `) as t(${recordType(EVENT_COLUMNS)}) on conflict do nothing returning request_id`,
);

const upsertRollups = jsonStatement(
  `insert into usage_rollups (${names(ROLLUP_COLUMNS)}) select ${names(ROLLUP_COLUMNS)} from jsonb_to_recordset(`,
  `) as t(${recordType(ROLLUP_COLUMNS)})
   on conflict (${ROLLUP_KEY.join(', ')}) do update set ${sums},
     latency_hist = array(select coalesce(a, 0) + coalesce(b, 0)
       from unnest(usage_rollups.latency_hist, excluded.latency_hist) as t(a, b))`,
);

function eventRow(record: UsageRecord): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [field, column, , fallback] of EVENT_COLUMNS) row[column] = record[field] ?? fallback;
  return row;
}

function rollupRow(r: RollupRow): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [field, column] of ROLLUP_COLUMNS) row[column] = r[field];
  return row;
}

function latencyBucket(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/**
 * Appends usage events (a request id already written is skipped) and adds exactly the events that
 * were new to the hourly and daily rollups, in the caller's transaction.
 * Returns how many events were new.
 */
export async function recordUsage(tx: DbOrTx, records: UsageRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  // Both drivers (PGlite, node-postgres) answer with their own result object, each holding `rows`.
  const result = (await tx.execute(insertEvents(records.map(eventRow)))) as unknown as {
    rows: { request_id: string }[];
  };
  const fresh = new Set(result.rows.map((r) => r.request_id));
  // A request id twice in one batch is inserted once: count it once.
  const inserted = records.filter((r) => fresh.delete(r.requestId));
  if (inserted.length === 0) return 0;
  const rows = rollupsOf(inserted);
  await tx.execute(upsertRollups(rows.map(rollupRow)));
  return inserted.length;
}

/** The events' sums per hour and per day, in a stable order (concurrent writers never deadlock on them). */
function rollupsOf(events: UsageRecord[]): RollupRow[] {
  const rollups = new Map<string, RollupRow>();
  for (const e of events) {
    for (const [granularity, size] of [
      ['hour', HOUR],
      ['day', DAY],
    ] as const) {
      const bucketStart = new Date(Math.floor(e.createdAt.getTime() / size) * size);
      const currency = e.currency ?? DEFAULT_CURRENCY;
      const prompt = e.promptTokens ?? 0;
      const completion = e.completionTokens ?? 0;
      const key = [
        e.orgId,
        granularity,
        bucketStart.getTime(),
        e.projectId,
        e.keyId,
        e.modelName,
        currency,
      ].join('\u0000');
      let r = rollups.get(key);
      if (!r) {
        r = {
          granularity,
          bucketStart,
          orgId: e.orgId,
          projectId: e.projectId,
          keyId: e.keyId,
          modelName: e.modelName,
          currency,
          requests: 0,
          errors: 0,
          promptTokens: 0,
          completionTokens: 0,
          cachedTokens: 0,
          reasoningTokens: 0,
          costNanos: 0,
          latencyMsSum: 0,
          latencyHist: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
        };
        rollups.set(key, r);
      }
      r.requests += 1;
      if (e.outcome !== 'success') r.errors += 1;
      r.promptTokens += prompt;
      r.completionTokens += completion;
      r.cachedTokens += e.cachedTokens ?? 0;
      r.reasoningTokens += e.reasoningTokens ?? 0;
      r.costNanos += e.costNanos ?? 0;
      r.latencyMsSum += e.latencyMs;
      r.latencyHist[latencyBucket(e.latencyMs)]! += 1;
    }
  }
  // A stable order keeps concurrent writers from deadlocking on the same rollup rows.
  return [...rollups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}
