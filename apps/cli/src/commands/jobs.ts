import type { Command } from 'commander';
import { send } from '../lib/api-client.ts';
import { errorFromResponse } from '../lib/errors.ts';
import { apiKeyOption, type KeyTarget, keyed } from '../lib/gateway-key.ts';
import { examples, parseDuration, type Runtime } from '../lib/runtime.ts';

type Opts = Record<string, any>;

interface AsyncJob {
  id: string;
  endpoint: string;
  model: string | null;
  status: string;
  created_at: number;
  completed_at: number | null;
  attempts: number;
  request_id: string | null;
  result: unknown;
  error: { message: string; code: string | null; status_code: number | null } | null;
  callback_url: string | null;
}

const FINAL = ['succeeded', 'failed', 'cancelled'];
const unixTime = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);

/** /api/v1/async/jobs/:id with the API key that queued the job. */
async function jobRequest(target: KeyTarget, method: string, id: string): Promise<AsyncJob> {
  const res = await send(target.server, method, `/api/v1/async/jobs/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${target.apiKey}` },
  });
  if (res.status >= 400) throw errorFromResponse(res.status, res.body);
  return res.body as AsyncJob;
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

/** Async inference jobs (POST /api/v1/async/…): look one up, wait for it, cancel it. */
export function registerJobCommands(program: Command): void {
  const jobs = examples(
    program
      .command('jobs')
      .alias('job')
      .description('async inference jobs (/api/v1/async), by the key that queued them'),
    ['maas jobs get job_…', 'maas jobs get job_… --wait -o json | jq .result'],
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
    apiKeyOption(jobs.command('cancel').description('cancel an async job').argument('<id>', 'job id')),
    ['maas jobs cancel job_…'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'async jobs');
    const job = await jobRequest(target, 'DELETE', id);
    rt.out.print(job, () => rt.out.line(`Job ${job.id}: ${job.status}`));
  });
}
