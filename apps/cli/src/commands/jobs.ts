import type { Command, OptionValues } from 'commander';
import { type ResponseOf, send } from '../lib/api-client.ts';
import { errorFromResponse, usageError } from '../lib/errors.ts';
import { apiKeyOption, type KeyTarget, keyed } from '../lib/gateway-key.ts';
import { type Column, paintStatus } from '../lib/output.ts';
import { examples, parseDuration, parseInteger, type Runtime } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

type AsyncJob = ResponseOf<'/api/v1/async/jobs/{id}'>;
type AsyncJobPage = ResponseOf<'/api/v1/async/jobs'>;

const FINAL = ['succeeded', 'failed', 'cancelled'];
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled'];
const unixTime = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);

/** /api/v1/async/jobs/:id with the API key that queued the job. */
async function jobRequest(target: KeyTarget, method: string, id: string): Promise<AsyncJob> {
  const res = await send(target.server, method, `/api/v1/async/jobs/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${target.apiKey}` },
  });
  if (res.status >= 400) throw errorFromResponse(res.status, res.body);
  return res.body as AsyncJob;
}

const paintJob = (text: string, c: Parameters<typeof paintStatus>[1]) =>
  text === 'succeeded'
    ? c.green(text)
    : text === 'cancelled' || text === 'cancelling' || text === 'queued'
      ? c.yellow(text)
      : paintStatus(text, c);

const columns: Column<AsyncJob>[] = [
  { header: 'id', value: (j) => j.id },
  { header: 'status', value: (j) => j.status, paint: (t, _j, c) => paintJob(t, c) },
  { header: 'endpoint', value: (j) => j.endpoint },
  { header: 'model', value: (j) => j.model },
  { header: 'created', value: (j) => unixTime(j.created_at) },
  { header: 'finished', value: (j) => unixTime(j.completed_at) },
  { header: 'error', value: (j) => j.error?.message ?? null },
];

/** The key's project's jobs, newest first: pages of /api/v1/async/jobs until `max` or the end. */
async function listJobs(target: KeyTarget, max: number, status: string | undefined): Promise<AsyncJob[]> {
  const out: AsyncJob[] = [];
  let after: string | null = null;
  while (out.length < max) {
    const query = new URLSearchParams({ limit: String(Math.min(max - out.length, 100)) });
    if (status) query.set('status', status);
    if (after) query.set('after', after);
    const res = await send(target.server, 'GET', `/api/v1/async/jobs?${query}`, {
      headers: { authorization: `Bearer ${target.apiKey}` },
    });
    if (res.status >= 400) throw errorFromResponse(res.status, res.body);
    const page = res.body as AsyncJobPage;
    out.push(...page.data);
    if (!page.has_more || !page.last_id) break;
    after = page.last_id;
  }
  return out;
}

function showJob(rt: Runtime, j: AsyncJob): void {
  rt.out.print(j, () => {
    rt.out.fields([
      ['id', j.id],
      ['status', j.status],
      ['endpoint', j.endpoint],
      ['model', j.model],
      ['attempts', j.attempts],
      ['request id', j.request_id],
      ['created', unixTime(j.created_at)],
      ['completed', unixTime(j.completed_at)],
      ['callback', j.callback_url],
      ...(j.error ? [['error', j.error.message] as [string, unknown]] : []),
    ]);
    if (j.result !== null && j.result !== undefined) {
      rt.out.line();
      rt.out.line(JSON.stringify(j.result, null, 2));
    }
  });
}

/** Async inference jobs (POST /api/v1/async/…): list them, look one up, wait for it, cancel it. */
export function registerJobCommands(program: Command): void {
  const jobs = examples(
    program
      .command('jobs')
      .alias('job')
      .description('async inference jobs (/api/v1/async), by the key that queued them'),
    ['maas jobs ls', 'maas jobs get job_…', 'maas jobs get job_… --wait -o json | jq .result'],
  );

  examples(
    apiKeyOption(
      jobs
        .command('get')
        .description('show an async job and, once it succeeded, its answer')
        .argument('<id>', 'job id')
        .option('--wait', 'poll until it has finished')
        .option('--interval <duration>', 'with --wait: how often to look (default 1s)'),
    ),
    ['maas jobs get job_…', 'maas jobs get job_… --wait'],
  ).action(async (id: string, opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'async jobs');
    let job = await jobRequest(target, 'GET', id);
    const every = opts.interval ? parseDuration(opts.interval) : 1000;
    const progress = opts.wait ? rt.out.progress(`job ${id}: ${job.status}`) : null;
    while (opts.wait && !FINAL.includes(job.status)) {
      await new Promise((r) => setTimeout(r, every));
      job = await jobRequest(target, 'GET', id);
      progress?.update(`job ${id}: ${job.status}`);
    }
    progress?.stop();
    showJob(rt, job);
  });

  examples(
    apiKeyOption(
      jobs
        .command('ls')
        .alias('list')
        .description("list the key's project's async jobs, newest first")
        .option('--status <status>', `only jobs in this status (${STATUSES.join(', ')})`)
        .option('--limit <n>', 'at most this many (default 20)', parseInteger)
        .option('--json', 'print JSON (as -o json)'),
    ),
    ['maas jobs ls', 'maas jobs ls --status failed', 'maas jobs ls --limit 100 --json'],
  ).action(async (opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'async jobs');
    if (opts.status && !STATUSES.includes(opts.status))
      throw usageError(`--status must be one of ${STATUSES.join(', ')}, got "${opts.status}"`);
    if (opts.limit !== undefined && opts.limit < 1) throw usageError('--limit must be 1 or more');
    const rows = await listJobs(target, opts.limit ?? 20, opts.status);
    if (opts.json) rt.out.line(JSON.stringify(rows, null, 2));
    else rt.out.print(rows, () => rt.out.table(rows, columns));
  });

  examples(
    apiKeyOption(jobs.command('cancel').description('cancel an async job').argument('<id>', 'job id')),
    ['maas jobs cancel job_…'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'async jobs');
    const job = await jobRequest(target, 'DELETE', id);
    rt.out.print(job, () => rt.out.line(`Job ${job.id}: ${job.status}`));
  });
}
