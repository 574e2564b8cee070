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
  ['images', 'images', 'integer', 0],
  ['imageSize', 'image_size', 'text', null],
  ['audioMs', 'audio_ms', 'integer', 0],
  ['characters', 'characters', 'integer', 0],
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
  'images',
  'audio_ms',
  'characters',
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

// A prerolled total: [...ROLLUP_KEY values (bucket_start in ms), requests, errors, ...SUMMED sums, histogram]
const PREROLLED_FIGURES = ['requests', 'errors', ...SUMMED]
  .map((_, i) => `(r->>${ROLLUP_KEY.length + i})::bigint`)
  .join(', ');
const PREROLLED_HIST = ROLLUP_KEY.length + 2 + SUMMED.length;

/**
 * One statement per batch: the events go in (a request id already written is skipped) and exactly
 * the new ones are added to the hourly and daily rollups (the writer's totals when all are new, else
 * summed here from the new ones), without a row travelling back. The batch
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
counted as (select count(*)::integer as n from fresh),
-- rolled up here only when some event of the batch was written before (a retried batch): exactly the
-- new ones count; otherwise the totals the writer computed (prerolled) go in as they are
buckets as (
  select g.granularity, date_trunc(g.granularity, fresh.created_at, 'UTC') as bucket_start,
    ${latencyBucket} as latency_bucket, fresh.*
  from fresh cross join (values ('hour'), ('day')) as g(granularity)
  where (select n from counted) < jsonb_array_length((select j from batch)->'e')
),
rolled as (
  insert into usage_rollups (${ROLLUP_KEY.join(', ')}, requests, errors, ${SUMMED.slice(0, -1).join(', ')}, latency_ms_sum, latency_hist)
  select ${ROLLUP_KEY.join(', ')}, count(*), count(*) filter (where outcome not in ('success', 'cache_hit')),
    ${SUMMED.map((c) => `sum(${c})`).join(', ')}, array[${histogram}]::integer[]
  from buckets
  group by ${ROLLUP_KEY.join(', ')}
  -- a stable order keeps concurrent writers from deadlocking on the same rollup rows
  order by ${ROLLUP_KEY.join(', ')}
  on conflict (${ROLLUP_KEY.join(', ')}) do update set ${rollupSet},
    latency_hist = array(select coalesce(a, 0) + coalesce(b, 0)
      from unnest(usage_rollups.latency_hist, excluded.latency_hist) as t(a, b))
  returning 1
),
prerolled as (
  insert into usage_rollups (${ROLLUP_KEY.join(', ')}, requests, errors, ${SUMMED.slice(0, -1).join(', ')}, latency_ms_sum, latency_hist)
  select r->>0, r->>1, to_timestamp((r->>2)::bigint / 1000.0), r->>3, r->>4, r->>5, r->>6,
    ${PREROLLED_FIGURES}, array(select jsonb_array_elements_text(r->${PREROLLED_HIST}))::integer[]
  from batch, jsonb_array_elements(batch.j->'r') as r
  where (select n from counted) = jsonb_array_length(batch.j->'e')
  order by 1, 2, 3, 4, 5, 6, 7
  on conflict (${ROLLUP_KEY.join(', ')}) do update set ${rollupSet},
    latency_hist = array(select coalesce(a, 0) + coalesce(b, 0)
      from unnest(usage_rollups.latency_hist, excluded.latency_hist) as t(a, b))
  returning 1
)
select (select n from counted) as inserted`);

const NUL_ESCAPE = '\\u0000';

/** The histogram bucket of a latency: the first whose bound is at least L (as width_bucket above). */
function latencyBucketOf(latencyMs: number): number {
  let i = 0;
  while (i < LATENCY_BUCKETS_MS.length && LATENCY_BUCKETS_MS[i]! < latencyMs) i++;
  return i;
}

interface Total {
  /** the ROLLUP_KEY values, bucket_start in ms */
  key: (string | number)[];
  /** requests, errors, then the SUMMED columns */
  figures: number[];
  hist: number[];
}

const GRANULARITIES = [
  ['hour', 3_600_000],
  ['day', 86_400_000],
] as const;

/** Adds an event to the hourly and daily totals of its org, project, key, model and currency. */
function rollUp(totals: Map<string, Total>, r: UsageRecord): void {
  const at = r.createdAt.getTime();
  const currency = r.currency ?? DEFAULT_CURRENCY;
  const bucket = latencyBucketOf(r.latencyMs);
  const summed = [
    r.outcome === 'success' || r.outcome === 'cache_hit' ? 0 : 1,
    r.promptTokens ?? 0,
    r.completionTokens ?? 0,
    r.cachedTokens ?? 0,
    r.reasoningTokens ?? 0,
    r.images ?? 0,
    r.audioMs ?? 0,
    r.characters ?? 0,
    r.costNanos ?? 0,
    r.latencyMs,
  ];
  for (const [granularity, width] of GRANULARITIES) {
    const key = [
      r.orgId,
      granularity,
      Math.floor(at / width) * width,
      r.projectId,
      r.keyId,
      r.modelName,
      currency,
    ];
    const id = key.join('\u0000');
    let t = totals.get(id);
    if (!t) {
      t = {
        key,
        figures: new Array(2 + SUMMED.length).fill(0),
        hist: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
      };
      totals.set(id, t);
    }
    t.figures[0]! += 1;
    for (let i = 0; i < summed.length; i++) t.figures[i + 1]! += summed[i]!;
    t.hist[bucket]! += 1;
  }
}

/**
 * The batch as `{d: [dimension tuples], e: [[request id, dimension index, ...facts, raw usage,
 * created ms]], r: [prerolled totals]}`: the rollups are summed here, where it is cheap, and used
 * whenever every event of the batch is new.
 */
export function encodeBatch(records: UsageRecord[]): string {
  const dims: unknown[][] = [];
  const dimIndex = new Map<string, number>();
  const events: unknown[][] = [];
  const totals = new Map<string, Total>();
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
    rollUp(totals, r);
  }
  const rolled = [...totals.values()].map((t) => [...t.key, ...t.figures, t.hist]);
  const payload = JSON.stringify({ d: dims, e: events, r: rolled });
  if (!payload.includes(NUL_ESCAPE)) return payload;
  // jsonb refuses NUL: an upstream usage object holding one is not kept (the counted tokens are).
  for (const event of events) {
    if (JSON.stringify(event[RAW_AT]).includes(NUL_ESCAPE)) event[RAW_AT] = null;
  }
  return JSON.stringify({ d: dims, e: events, r: rolled });
}

/**
 * Appends usage events, idempotent by request id, and adds exactly the events that were new to the
 * hourly and daily rollups, in one statement (atomic without a transaction). Returns how many events were new.
 */
export async function recordUsage(tx: DbOrTx, records: UsageRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  // Both drivers (PGlite, node-postgres) answer with their own result object, each holding `rows`.
  const result = (await tx.execute(sql`${HEAD}${encodeBatch(records)}${TAIL}`)) as unknown as {
    rows: { inserted: number }[];
  };
  return Number(result.rows[0]?.inserted ?? 0);
}
