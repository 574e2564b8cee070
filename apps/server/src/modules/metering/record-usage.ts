import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { LATENCY_BUCKETS_MS } from './rollups-schema.ts';
import type { usageEvents } from './schema.ts';

export type UsageRecord = typeof usageEvents.$inferInsert;

export const DEFAULT_CURRENCY = 'USD';

/**
 * The columns that repeat from request to request (who called which model where): sent once per
 * distinct combination in a batch, and referenced by position from each event.
 */
const DIMENSIONS = [
  ['orgId', 'org_id'],
  ['projectId', 'project_id'],
  ['keyId', 'key_id'],
  ['modelId', 'model_id'],
  ['modelName', 'model_name'],
  ['versionId', 'version_id'],
  ['providerId', 'provider_id'],
  ['upstreamModel', 'upstream_model'],
  ['endpoint', 'endpoint'],
  ['currency', 'currency'],
  ['priceId', 'price_id'],
] as const satisfies readonly (readonly [keyof UsageRecord, string])[];

/** The event's own columns, after its request id (0) and its dimension's position (1). */
const FACTS = [
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
] as const satisfies readonly (readonly [keyof UsageRecord, string, string, unknown])[];
const RAW_AT = 2 + FACTS.length;
const CREATED_AT = RAW_AT + 1;

const SUMMED = [
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_nanos',
  'latency_ms',
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

const eventColumns = [
  'request_id',
  ...DIMENSIONS.map(([, c]) => c),
  ...FACTS.map(([, c]) => c),
  'raw_usage',
  'created_at',
];
const eventValues = [
  'e->>0 as request_id',
  ...DIMENSIONS.map(([, c], i) => `d->>${i} as ${c}`),
  ...FACTS.map(([, c, type], i) => `(e->>${i + 2})::${type} as ${c}`),
  `nullif(e->${RAW_AT}, 'null'::jsonb) as raw_usage`,
  `to_timestamp((e->>${CREATED_AT})::bigint / 1000.0) as created_at`,
];
// A latency of L ms falls in the first bucket whose bound is >= L (width_bucket counts bounds <= its operand).
const latencyBucket = `width_bucket(fresh.latency_ms - 1, array[${LATENCY_BUCKETS_MS.join(',')}])`;
const histogram = Array.from(
  { length: LATENCY_BUCKETS_MS.length + 1 },
  (_, i) => `count(*) filter (where latency_bucket = ${i})`,
).join(', ');
const rollupSet = ['requests', 'errors', ...SUMMED.map((c) => (c === 'latency_ms' ? 'latency_ms_sum' : c))]
  .map((c) => `${c} = usage_rollups.${c} + excluded.${c}`)
  .join(', ');

/**
 * One statement per batch: the events go in (a request id already written is skipped) and exactly
 * the new ones are added to the hourly and daily rollups, without a row travelling back. The batch
 * travels as one compact JSON parameter (positional, repeating columns sent once), because on the
 * embedded database the bytes a statement carries are most of what it costs.
 */
const HEAD = sql.raw('with batch as (select ');
const TAIL = sql.raw(`::jsonb as j),
events as (
  select ${eventValues.join(', ')}
  from batch, jsonb_array_elements(batch.j->'e') as e, lateral (select batch.j->'d'->((e->>1)::int) as d) as dim
),
fresh as (
  insert into usage_events (${eventColumns.join(', ')})
  select ${eventColumns.join(', ')} from events
  on conflict do nothing
  returning org_id, project_id, key_id, model_name, coalesce(currency, '${DEFAULT_CURRENCY}') as currency, outcome,
    ${SUMMED.join(', ')}, created_at
),
buckets as (
  select g.granularity, date_trunc(g.granularity, fresh.created_at, 'UTC') as bucket_start,
    ${latencyBucket} as latency_bucket, fresh.*
  from fresh cross join (values ('hour'), ('day')) as g(granularity)
),
rolled as (
  insert into usage_rollups (${ROLLUP_KEY.join(', ')}, requests, errors, ${SUMMED.slice(0, -1).join(', ')}, latency_ms_sum, latency_hist)
  select ${ROLLUP_KEY.join(', ')}, count(*), count(*) filter (where outcome <> 'success'),
    ${SUMMED.map((c) => `sum(${c})`).join(', ')}, array[${histogram}]::integer[]
  from buckets
  group by ${ROLLUP_KEY.join(', ')}
  -- a stable order keeps concurrent writers from deadlocking on the same rollup rows
  order by ${ROLLUP_KEY.join(', ')}
  on conflict (${ROLLUP_KEY.join(', ')}) do update set ${rollupSet},
    latency_hist = array(select coalesce(a, 0) + coalesce(b, 0)
      from unnest(usage_rollups.latency_hist, excluded.latency_hist) as t(a, b))
  returning 1
)
select (select count(*) from fresh)::integer as inserted`);

const NUL_ESCAPE = '\\u0000';

/** The batch as `{d: [dimension tuples], e: [[request id, dimension index, ...facts, raw usage, created ms]]}`. */
export function encodeBatch(records: UsageRecord[]): string {
  const dims: unknown[][] = [];
  const dimIndex = new Map<string, number>();
  const events: unknown[][] = [];
  for (const r of records) {
    const dim = DIMENSIONS.map(([field]) => r[field] ?? null);
    const key = dim.join('\u0000');
    let at = dimIndex.get(key);
    if (at === undefined) {
      at = dims.length;
      dims.push(dim);
      dimIndex.set(key, at);
    }
    const event: unknown[] = [r.requestId, at];
    for (const [field, , , fallback] of FACTS) event.push(r[field] ?? fallback);
    event.push(r.rawUsage ?? null, r.createdAt.getTime());
    events.push(event);
  }
  const payload = JSON.stringify({ d: dims, e: events });
  if (!payload.includes(NUL_ESCAPE)) return payload;
  // jsonb refuses NUL: an upstream usage object holding one is not kept (the counted tokens are).
  for (const event of events) {
    if (JSON.stringify(event[RAW_AT]).includes(NUL_ESCAPE)) event[RAW_AT] = null;
  }
  return JSON.stringify({ d: dims, e: events });
}

/**
 * Appends usage events, idempotent by request id, and adds exactly the events that were new to the
 * hourly and daily rollups, in the caller's transaction. Returns how many events were new.
 */
export async function recordUsage(tx: DbOrTx, records: UsageRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  // Both drivers (PGlite, node-postgres) answer with their own result object, each holding `rows`.
  const result = (await tx.execute(sql`${HEAD}${encodeBatch(records)}${TAIL}`)) as unknown as {
    rows: { inserted: number }[];
  };
  return Number(result.rows[0]?.inserted ?? 0);
}
