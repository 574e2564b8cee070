import { existsSync } from 'node:fs';
import type { Command, OptionValues } from 'commander';
import type OpenAI from 'openai';
import { CliError, EXIT, usageError } from '../lib/errors.ts';
import { uploadFile } from '../lib/file-transfer.ts';
import { apiKeyOption, gatewayClient, type KeyTarget, keyed, viaSdk } from '../lib/gateway-key.ts';
import { type Column, paintStatus } from '../lib/output.ts';
import { barsEnabled, createBar, formatBytes } from '../lib/progress-bar.ts';
import { examples, parseDuration, parseInteger, type Runtime } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;
type Job = OpenAI.FineTuning.FineTuningJob;

const FINAL = ['succeeded', 'failed', 'cancelled'];
const unixTime = (s: number | null | undefined) => (s ? new Date(s * 1000).toISOString() : null);

const columns: Column<Job>[] = [
  { header: 'id', value: (j) => j.id },
  {
    header: 'status',
    value: (j) => j.status,
    paint: (t, _j, c) => (t === 'succeeded' ? c.green(t) : paintStatus(t, c)),
  },
  { header: 'model', value: (j) => j.model },
  { header: 'fine-tuned model', value: (j) => j.fine_tuned_model },
  { header: 'trained tokens', value: (j) => j.trained_tokens },
  { header: 'created', value: (j) => unixTime(j.created_at) },
];

/** A file id as is; a local path is uploaded first (purpose fine-tune). */
async function fileId(rt: Runtime, target: KeyTarget, ref: string, flag: string): Promise<string> {
  if (!existsSync(ref)) {
    if (/^file-[\w-]+$/.test(ref)) return ref;
    throw usageError(`${flag}: no file id and no local file named ${ref}`);
  }
  const bar = createBar('upload', 'bytes', barsEnabled(rt.globals));
  const file = await uploadFile(target, { path: ref, purpose: 'fine-tune', bar });
  rt.out.note(`Uploaded ${ref} (${formatBytes(file.bytes)}) as ${file.id}`);
  return file.id;
}

function showJob(rt: Runtime, j: Job): void {
  rt.out.print(j, () =>
    rt.out.fields([
      ['id', j.id],
      ['status', j.status],
      ['model', j.model],
      ['method', j.method?.type ?? 'supervised'],
      ['fine-tuned model', j.fine_tuned_model],
      ['training file', j.training_file],
      ['validation file', j.validation_file],
      ['hyperparameters', JSON.stringify(j.hyperparameters)],
      ['trained tokens', j.trained_tokens],
      ['created', unixTime(j.created_at)],
      ['estimated finish', unixTime(j.estimated_finish)],
      ['finished', unixTime(j.finished_at)],
      ...(j.error?.message ? [['error', j.error.message] as [string, unknown]] : []),
    ]),
  );
}

const num = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw usageError(`${flag} must be a number, got "${v}"`);
  return n;
};

/** `maas ft`: fine-tuning jobs (/v1/fine_tuning/jobs) with a project's API key. */
export function registerFineTuningCommands(program: Command): void {
  const ft = examples(
    program
      .command('ft')
      .alias('fine-tuning')
      .description('fine-tuning jobs (/v1/fine_tuning/jobs), by API key'),
    [
      'maas ft create --model tiny --training-file train.jsonl --wait',
      'maas ft ls',
      'maas ft events ftjob-…',
    ],
  );

  examples(
    apiKeyOption(
      ft
        .command('create')
        .description(
          'start a fine-tuning job: the training file is an uploaded file id or a local JSONL path',
        )
        .requiredOption('--model <name>', 'the base model (a GGUF deployment of the org)')
        .requiredOption('--training-file <file>', 'file id (file-…) or a local JSONL path')
        .option('--validation-file <file>', 'file id or local path')
        .option('--method <method>', 'supervised (chat JSONL) or dpo (preference JSONL)', 'supervised')
        .option('--suffix <suffix>', 'part of the fine-tuned model name')
        .option('--epochs <n>', 'n_epochs (default auto)', parseInteger)
        .option('--batch-size <n>', 'batch_size (default auto)', parseInteger)
        .option('--learning-rate-multiplier <x>', 'default auto', num('--learning-rate-multiplier'))
        .option('--seed <n>', 'seed', parseInteger)
        .option('--wait', 'poll until it has finished; exit 1 unless it succeeded'),
    ),
    ['maas ft create --model tiny --training-file train.jsonl --suffix demo --epochs 3 --wait'],
  ).action(async (opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'fine-tuning');
    if (!['supervised', 'dpo'].includes(opts.method)) throw usageError('--method must be supervised or dpo');
    const client = await gatewayClient(target);
    const training = await fileId(rt, target, opts.trainingFile, '--training-file');
    const validation = opts.validationFile
      ? await fileId(rt, target, opts.validationFile, '--validation-file')
      : null;
    const hyperparameters = {
      ...(opts.epochs !== undefined ? { n_epochs: opts.epochs } : {}),
      ...(opts.batchSize !== undefined ? { batch_size: opts.batchSize } : {}),
      ...(opts.learningRateMultiplier !== undefined
        ? { learning_rate_multiplier: opts.learningRateMultiplier }
        : {}),
    };
    let job = await viaSdk(target, () =>
      client.fineTuning.jobs.create({
        model: opts.model,
        training_file: training,
        ...(validation ? { validation_file: validation } : {}),
        ...(opts.suffix ? { suffix: opts.suffix } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        method:
          opts.method === 'dpo'
            ? { type: 'dpo', dpo: { hyperparameters } }
            : { type: 'supervised', supervised: { hyperparameters } },
      }),
    );
    if (opts.wait) {
      const progress = rt.out.progress(`job ${job.id}: ${job.status}`);
      while (!FINAL.includes(job.status)) {
        await new Promise((r) => setTimeout(r, 2000));
        job = await viaSdk(target, () => client.fineTuning.jobs.retrieve(job.id));
        progress.update(`job ${job.id}: ${job.status}`);
      }
      progress.stop();
    }
    showJob(rt, job);
    if (opts.wait && job.status !== 'succeeded')
      throw new CliError(
        `fine-tuning job ${job.id} ${job.status}${job.error?.message ? `: ${job.error.message}` : ''}`,
        EXIT.general,
        job.status,
      );
  });

  examples(
    apiKeyOption(
      ft
        .command('ls')
        .alias('list')
        .description("the key's project's fine-tuning jobs, newest first")
        .option('--limit <n>', 'at most this many (default 20)', parseInteger),
    ),
    ['maas ft ls', 'maas ft ls -o json'],
  ).action(async (opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'fine-tuning');
    const client = await gatewayClient(target);
    const page = await viaSdk(target, () =>
      client.fineTuning.jobs.list({ limit: Math.min(opts.limit ?? 20, 100) }),
    );
    rt.out.print(page.data, () => rt.out.table(page.data, columns));
  });

  examples(apiKeyOption(ft.command('get').description('one fine-tuning job').argument('<id>', 'job id')), [
    'maas ft get ftjob-…',
  ]).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'fine-tuning');
    const client = await gatewayClient(target);
    showJob(rt, await viaSdk(target, () => client.fineTuning.jobs.retrieve(id)));
  });

  examples(
    apiKeyOption(
      ft
        .command('events')
        .description("a job's events, oldest first (metrics: step, losses, learning rate, tokens/s)")
        .argument('<id>', 'job id')
        .option('--follow', 'keep printing new events until the job has finished')
        .option('--interval <duration>', 'with --follow: how often to look (default 2s)'),
    ),
    ['maas ft events ftjob-…', 'maas ft events ftjob-… --follow'],
  ).action(async (id: string, opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'fine-tuning');
    const client = await gatewayClient(target);
    const seen = new Set<string>();
    const all: OpenAI.FineTuning.FineTuningJobEvent[] = [];
    for (;;) {
      const page = await viaSdk(target, () => client.fineTuning.jobs.listEvents(id, { limit: 100 }));
      const fresh = page.data.filter((e) => !seen.has(e.id)).reverse();
      for (const e of fresh) {
        seen.add(e.id);
        all.push(e);
        if (opts.follow && !rt.globals.output?.startsWith('json'))
          rt.out.line(`${unixTime(e.created_at)} ${e.level.padEnd(5)} ${e.message}`);
      }
      if (!opts.follow) break;
      const job = await viaSdk(target, () => client.fineTuning.jobs.retrieve(id));
      if (FINAL.includes(job.status)) break;
      await new Promise((r) => setTimeout(r, opts.interval ? parseDuration(opts.interval) : 2000));
    }
    if (opts.follow && !rt.globals.output?.startsWith('json')) return;
    rt.out.print(all, () => {
      for (const e of all) rt.out.line(`${unixTime(e.created_at)} ${e.level.padEnd(5)} ${e.message}`);
    });
  });

  examples(
    apiKeyOption(
      ft
        .command('checkpoints')
        .description("a job's checkpoints: step, training loss, and the file holding each (maas files)")
        .argument('<id>', 'job id'),
    ),
    ['maas ft checkpoints ftjob-…'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'fine-tuning');
    const client = await gatewayClient(target);
    const page = await viaSdk(target, () => client.fineTuning.jobs.checkpoints.list(id, { limit: 100 }));
    type Ckpt = (typeof page.data)[number] & { maas?: { file_id: string | null } };
    const rows = page.data as Ckpt[];
    rt.out.print(rows, () =>
      rt.out.table(rows, [
        { header: 'step', value: (c) => c.step_number },
        { header: 'train loss', value: (c) => c.metrics.train_loss ?? null },
        { header: 'file', value: (c) => c.maas?.file_id ?? null },
        { header: 'checkpoint', value: (c) => c.fine_tuned_model_checkpoint },
      ]),
    );
  });

  examples(
    apiKeyOption(
      ft
        .command('deploy')
        .description(
          "serve a job's adapter on its base deployment's replicas again (a job that failed its parity check is checked anew)",
        )
        .argument('<id>', 'job id'),
    ),
    ['maas ft deploy ftjob-…'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'fine-tuning');
    const client = await gatewayClient(target);
    const out = await viaSdk(target, () =>
      client.post<{ model: string | null; base: string; replicas: number; loaded: number }>(
        `/fine_tuning/jobs/${encodeURIComponent(id)}/deploy`,
      ),
    );
    rt.out.print(out, () =>
      rt.out.line(
        out.model
          ? `${out.model} served on ${out.replicas} replica(s) of ${out.base} (${out.loaded} newly loaded)`
          : `Deploy requested: the adapter is checked again on ${out.base} (maas ft get ${id})`,
      ),
    );
  });

  examples(
    apiKeyOption(ft.command('cancel').description('cancel a fine-tuning job').argument('<id>', 'job id')),
    ['maas ft cancel ftjob-…'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'fine-tuning');
    const client = await gatewayClient(target);
    const job = await viaSdk(target, () => client.fineTuning.jobs.cancel(id));
    rt.out.print(job, () => rt.out.line(`Fine-tuning job ${job.id}: ${job.status}`));
  });
}
