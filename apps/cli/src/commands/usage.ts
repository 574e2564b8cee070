import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import type { ApiClient, Query, ResponseOf } from '../lib/api-client.ts';
import { CliError, EXIT, errorFromResponse, usageError } from '../lib/errors.ts';
import { type Column, FORMATS } from '../lib/output.ts';
import { refs, resolveId } from '../lib/resolve.ts';
import { examples, parseTime, runtimeOf } from '../lib/runtime.ts';

const DIMENSIONS = ['org', 'project', 'key', 'user', 'model'] as const;
type Dimension = (typeof DIMENSIONS)[number];
const FIELD: Record<Dimension, 'org_id' | 'project_id' | 'key_id' | 'user_id' | 'model'> = {
  org: 'org_id',
  project: 'project_id',
  key: 'key_id',
  user: 'user_id',
  model: 'model',
};

type UsageReport = ResponseOf<'/api/v1/usage'>;
/** A row of the report, or one summed across buckets (no bucket, no percentiles). */
type UsageRow = Omit<UsageReport['data'][number], 'bucket_start' | 'latency_p50_ms' | 'latency_p95_ms'> & {
  bucket_start?: string;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
};

interface UsageOptions {
  groupBy: string;
  granularity: string;
  since?: string;
  from?: string;
  to?: string;
  project?: string;
  key?: string;
  user?: string;
  model?: string;
  summary?: boolean;
  csv?: boolean;
}

function dimensionsOf(text: string): Dimension[] {
  const dims = text
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const bad = dims.filter((d) => !(DIMENSIONS as readonly string[]).includes(d));
  if (bad.length) throw usageError(`unknown --group-by ${bad.join(', ')}; use ${DIMENSIONS.join(', ')}`);
  return dims as Dimension[];
}

/** Sums rows across time buckets (one row per group and currency). */
export function collapseBuckets(rows: UsageRow[], dims: Dimension[]): UsageRow[] {
  const groups = new Map<string, UsageRow>();
  for (const row of rows) {
    const key = JSON.stringify([...dims.map((d) => row[FIELD[d]]), row.currency]);
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { ...row, bucket_start: undefined, latency_p50_ms: null, latency_p95_ms: null });
      continue;
    }
    const requests = g.requests + row.requests;
    g.latency_avg_ms = requests
      ? Math.round((g.latency_avg_ms * g.requests + row.latency_avg_ms * row.requests) / requests)
      : 0;
    g.requests = requests;
    g.errors += row.errors;
    g.prompt_tokens += row.prompt_tokens;
    g.completion_tokens += row.completion_tokens;
    g.total_tokens += row.total_tokens;
    g.cost = Math.round((g.cost + row.cost) * 1e6) / 1e6;
  }
  return [...groups.values()];
}

/** Names for project and key ids, for people (ids stay in JSON, YAML and CSV). */
async function namesFor(api: ApiClient, dims: Dimension[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const lists = [];
  if (dims.includes('project')) lists.push(api.list(refs.project.path));
  if (dims.includes('key')) lists.push(api.list(refs.key.path));
  if (dims.includes('user'))
    lists.push(api.list(refs.user.path).then((rows) => rows.map((u) => ({ id: u.id, name: u.email }))));
  for (const rows of await Promise.all(lists)) for (const r of rows) names.set(r.id, r.name);
  return names;
}

async function usage(cmd: Command, opts: UsageOptions): Promise<void> {
  const rt = runtimeOf(cmd, [...FORMATS, 'csv']);
  const api = rt.api();
  const dims = dimensionsOf(opts.groupBy);
  if (!['hour', 'day'].includes(opts.granularity)) throw usageError('--granularity must be hour or day');
  const csv = opts.csv || rt.out.format === 'csv';
  const query: Query = {
    group_by: dims.join(','),
    granularity: opts.granularity,
    from: opts.from ? parseTime(opts.from) : opts.since ? parseTime(opts.since) : undefined,
    to: opts.to ? parseTime(opts.to) : undefined,
    project_id: opts.project ? await resolveId(api, refs.project, opts.project) : undefined,
    key_id: opts.key ? await resolveId(api, refs.key, opts.key) : undefined,
    user_id: opts.user ? await resolveId(api, refs.user, opts.user) : undefined,
    model: opts.model,
    format: csv && !opts.summary ? 'csv' : undefined,
  };
  const spin = rt.out.progress('fetching usage');
  const res = await api
    .raw('GET', '/api/v1/usage', { query, text: query.format === 'csv' })
    .finally(() => spin.stop());
  if (res.status === 404)
    throw new CliError(
      'this server does not offer usage reports yet (GET /api/v1/usage is missing)',
      EXIT.notFound,
      'not_found',
    );
  if (res.status >= 400)
    throw errorFromResponse(res.status, typeof res.body === 'string' ? safeJson(res.body) : res.body);
  if (query.format === 'csv') {
    process.stdout.write(res.body as string);
    return;
  }
  const report = res.body as UsageReport;
  const rows = opts.summary ? collapseBuckets(report.data, dims) : report.data;
  if (csv) return printCsv(rows, dims, !opts.summary);
  const names = rt.out.human ? await namesFor(api, dims) : new Map<string, string>();
  const label = (id: string | undefined) => (id ? (names.get(id) ?? id) : null);
  rt.out.print({ ...report, data: rows }, () => {
    const { c } = rt.out;
    const by = [opts.summary ? null : opts.granularity, ...dims].filter(Boolean).join(', ');
    rt.out.note(c.dim(`usage from ${report.from} to ${report.to}, by ${by}`));
    const columns: Column<UsageRow>[] = [
      ...(opts.summary
        ? []
        : [
            {
              header: opts.granularity,
              value: (r: UsageRow) => bucketLabel(r.bucket_start, opts.granularity),
            },
          ]),
      ...dims.map(
        (d): Column<UsageRow> => ({
          header: d,
          value: (r) => (d === 'model' ? r.model : label(r[FIELD[d]])),
        }),
      ),
      ...metricColumns(!opts.summary),
    ];
    rt.out.table(rows, columns);
    if (report.totals.length) {
      rt.out.line();
      rt.out.table(report.totals, [
        { header: 'total', value: (r) => r.currency, paint: (t) => c.bold(t) },
        ...metricColumns(true),
      ]);
    }
  });
}

const safeJson = (text: string) => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const bucketLabel = (iso: string | undefined, granularity: string) =>
  iso ? (granularity === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`) : null;

function metricColumns(latency: boolean): Column<UsageRow>[] {
  return [
    { header: 'requests', value: (r) => r.requests },
    { header: 'errors', value: (r) => r.errors, paint: (t, r, c) => (r.errors ? c.red(t) : t) },
    { header: 'prompt', value: (r) => r.prompt_tokens },
    { header: 'completion', value: (r) => r.completion_tokens },
    { header: 'tokens', value: (r) => r.total_tokens },
    { header: 'cost', value: (r) => `${r.cost.toFixed(4)} ${r.currency}` },
    { header: 'avg ms', value: (r) => r.latency_avg_ms },
    ...(latency ? [{ header: 'p95 ms', value: (r: UsageRow) => r.latency_p95_ms }] : []),
  ];
}

function printCsv(rows: UsageRow[], dims: Dimension[], buckets: boolean): void {
  const header = [
    ...(buckets ? ['bucket_start'] : []),
    ...dims.map((d) => FIELD[d]),
    'currency',
    'requests',
    'errors',
    'prompt_tokens',
    'completion_tokens',
    'total_tokens',
    'cost',
    'latency_avg_ms',
  ];
  // escape_formulas: a cell starting with = + - @ is not run as a formula by a spreadsheet
  const records = rows.map((r) => header.map((h) => r[h as keyof UsageRow] ?? ''));
  process.stdout.write(stringify([header, ...records], { escape_formulas: true }));
}

export function registerUsageCommand(program: Command): void {
  examples(
    program
      .command('usage')
      .description(
        'requests, tokens, cost and latency by time bucket and by org, project, key, user or model',
      )
      .option('--group-by <dims>', `comma-separated: ${DIMENSIONS.join(', ')}`, 'model')
      .option('--granularity <g>', 'hour or day', 'day')
      .option('--since <duration>', 'from this long ago (e.g. 24h, 7d; default 30d)')
      .option('--from <time>', 'start (ISO 8601, or a duration ago)')
      .option('--to <time>', 'end (ISO 8601; default the end of today, UTC)')
      .option('--project <project>', 'only this project (id or name)')
      .option('--key <key>', 'only this API key (id or name)')
      .option('--user <user>', 'only the keys this user created (id or email)')
      .option('--model <model>', 'only this model')
      .option('--summary', 'one row per group: sum over the time buckets')
      .option('--csv', 'CSV on stdout (same as -o csv)')
      .action(async (opts: UsageOptions, cmd: Command) => usage(cmd, opts)),
    [
      'maas usage --since 7d',
      'maas usage --group-by project,model --summary',
      'maas usage --granularity hour --since 24h --model chat-small',
      'maas usage --group-by key --since 30d --csv > usage.csv',
      'maas usage --group-by user --summary',
    ],
  );
}
