import { existsSync } from 'node:fs';
import type { Command, OptionValues } from 'commander';
import type OpenAI from 'openai';
import { CliError, EXIT, usageError } from '../lib/errors.ts';
import { downloadFile, uploadFile } from '../lib/file-transfer.ts';
import {
  apiKeyOption,
  gatewayClient,
  type KeyTarget,
  keyed,
  keyedDownload,
  viaSdk,
} from '../lib/gateway-key.ts';
import { type Column, paintStatus } from '../lib/output.ts';
import { barsEnabled, createBar, formatBytes } from '../lib/progress-bar.ts';
import { collect, examples, parseDuration, parseInteger, type Runtime } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;
type Batch = OpenAI.Batches.Batch;

export const FINAL_STATUSES = ['completed', 'failed', 'expired', 'cancelled'] as const;
const isFinal = (b: Batch) => (FINAL_STATUSES as readonly string[]).includes(b.status);

const unixTime = (s: number | null | undefined) => (s ? new Date(s * 1000).toISOString() : null);
const counts = (b: Batch) => b.request_counts ?? { total: 0, completed: 0, failed: 0 };
const progressOf = (b: Batch) => {
  const c = counts(b);
  return `${c.completed + c.failed}/${c.total}${c.failed ? ` (${c.failed} failed)` : ''}`;
};
const paintBatch = (text: string, c: Parameters<typeof paintStatus>[1]) =>
  text === 'completed' ? c.green(text) : text === 'cancelled' ? c.yellow(text) : paintStatus(text, c);

const columns: Column<Batch>[] = [
  { header: 'id', value: (b) => b.id },
  { header: 'status', value: (b) => b.status, paint: (t, _b, c) => paintBatch(t, c) },
  { header: 'endpoint', value: (b) => b.endpoint },
  { header: 'model', value: (b) => (b as { model?: string | null }).model },
  { header: 'done', value: progressOf },
  { header: 'created', value: (b) => unixTime(b.created_at) },
];

/** `k=v` pairs → an object; exit 2 for a pair without `=`. */
function metadataOf(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`--metadata wants key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Where the results are, as commands to run. */
function resultLines(rt: Runtime, b: Batch): void {
  const { c } = rt.out;
  if (b.output_file_id)
    rt.out.line(`output: ${c.bold(b.output_file_id)}   maas batches download ${b.id} -o output.jsonl`);
  if (b.error_file_id)
    rt.out.line(
      `errors: ${c.bold(b.error_file_id)}   maas batches download ${b.id} --errors -o errors.jsonl`,
    );
}

function showBatch(rt: Runtime, b: Batch): void {
  rt.out.print(b, () => {
    const c = counts(b);
    rt.out.fields([
      ['id', b.id],
      ['status', b.status],
      ['endpoint', b.endpoint],
      ['model', (b as { model?: string | null }).model],
      ['input file', b.input_file_id],
      ['requests', `${c.total} total, ${c.completed} completed, ${c.failed} failed`],
      ['tokens', b.usage ? `${b.usage.input_tokens} in, ${b.usage.output_tokens} out` : null],
      ['created', unixTime(b.created_at)],
      ['expires', unixTime(b.expires_at)],
      ['metadata', b.metadata && Object.keys(b.metadata).length ? b.metadata : null],
      ...((b.errors?.data ?? []).map((e, i) => [
        i === 0 ? 'errors' : '',
        `${e.code}${e.line ? ` (line ${e.line})` : ''}: ${e.message}`,
      ]) as [string, unknown][]),
    ]);
    resultLines(rt, b);
  });
}

/** Polls a batch until a final status, with a bar of its lines on a terminal. */
async function watch(
  rt: Runtime,
  target: KeyTarget,
  client: OpenAI,
  id: string,
  every: number,
): Promise<void> {
  const bar = createBar('batch', 'lines', barsEnabled(rt.globals));
  let last = '';
  let b: Batch;
  for (;;) {
    b = await viaSdk(target, () => client.batches.retrieve(id));
    const c = counts(b);
    bar.update(c.completed + c.failed, c.total, b.status);
    const now = `${b.status} ${progressOf(b)}`;
    if (now !== last && !barsEnabled(rt.globals) && rt.out.human) rt.out.note(`${b.id}: ${now}`);
    last = now;
    if (isFinal(b)) break;
    await new Promise((r) => setTimeout(r, every));
  }
  bar.stop();
  rt.out.print(b, () => {
    const c = counts(b);
    rt.out.line(
      `Batch ${b.id} ${paintBatch(b.status, rt.out.c)}: ${c.completed} of ${c.total} lines answered, ${c.failed} failed`,
    );
    resultLines(rt, b);
  });
  if (b.status !== 'completed') {
    const why = b.errors?.data?.[0]?.message;
    throw new CliError(`batch ${b.id} ${b.status}${why ? `: ${why}` : ''}`, EXIT.general, b.status);
  }
}

/** A file id as is; a local path is uploaded first (purpose batch). */
async function inputFileId(rt: Runtime, target: KeyTarget, ref: string): Promise<string> {
  if (!existsSync(ref)) {
    if (/^file-[\w-]+$/.test(ref)) return ref;
    throw usageError(`--input-file: no file id and no local file named ${ref}`);
  }
  const bar = createBar('upload', 'bytes', barsEnabled(rt.globals));
  const file = await uploadFile(target, { path: ref, purpose: 'batch', bar });
  rt.out.note(`Uploaded ${ref} (${formatBytes(file.bytes)}) as ${file.id}`);
  return file.id;
}

const pollEvery = (opts: Opts) => (opts.interval ? parseDuration(opts.interval) : 2000);

export function registerBatchCommands(program: Command): void {
  const batches = examples(
    program
      .command('batches')
      .alias('batch')
      .description('batches of requests run in the background (/v1/batches), with live progress'),
    [
      'maas batches create --input-file requests.jsonl --watch',
      'maas batches watch batch_…',
      'maas batches download batch_… -o output.jsonl',
    ],
  );

  examples(
    apiKeyOption(
      batches
        .command('ls')
        .alias('list')
        .description('list batches, newest first')
        .option('--limit <n>', 'at most this many (default: all)', parseInteger),
    ),
    ['maas batches ls', 'maas batches ls --limit 5 -o json'],
  ).action(async (opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'batches');
    const client = await gatewayClient(target);
    const max = opts.limit ?? Number.POSITIVE_INFINITY;
    const rows = await viaSdk(target, async () => {
      const out: Batch[] = [];
      for await (const b of client.batches.list({ limit: Math.min(max, 100) })) {
        out.push(b);
        if (out.length >= max) break;
      }
      return out;
    });
    rt.out.print(rows, () => rt.out.table(rows, columns));
  });

  examples(apiKeyOption(batches.command('get').description('show one batch').argument('<id>', 'batch id')), [
    'maas batches get batch_…',
  ]).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'batches');
    const client = await gatewayClient(target);
    showBatch(rt, await viaSdk(target, () => client.batches.retrieve(id)));
  });

  examples(
    apiKeyOption(
      batches
        .command('create')
        .description('start a batch from a JSONL file: an uploaded file id, or a local file uploaded first')
        .requiredOption('--input-file <file>', 'file id (file-…) or a local JSONL path')
        .option('--endpoint <path>', '/v1/chat/completions (default), /v1/completions or /v1/embeddings')
        .option('--completion-window <window>', 'only 24h', '24h')
        .option('--metadata <key=value>', 'a label (repeatable)', collect)
        .option('--watch', 'then watch it to the end, as `maas batches watch`')
        .option('--interval <duration>', 'with --watch: how often to look (default 2s)')
        .option('-q, --quiet', 'print only the batch id'),
    ),
    [
      'maas batches create --input-file requests.jsonl --watch',
      'maas batches create --input-file file-… --endpoint /v1/embeddings --metadata run=nightly',
    ],
  ).action(async (opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'batches');
    const metadata = metadataOf(opts.metadata);
    const client = await gatewayClient(target);
    const fileId = await inputFileId(rt, target, opts.inputFile);
    const created = await viaSdk(target, () =>
      client.batches.create({
        input_file_id: fileId,
        endpoint: (opts.endpoint ?? '/v1/chat/completions') as '/v1/chat/completions',
        completion_window: opts.completionWindow,
        ...(metadata ? { metadata } : {}),
      }),
    );
    if (opts.watch) {
      if (rt.out.human) rt.out.note(`Created batch ${created.id}`);
      return watch(rt, target, client, created.id, pollEvery(opts));
    }
    if (opts.quiet) return rt.out.line(created.id);
    rt.out.print(created, () =>
      rt.out.line(`Created batch ${rt.out.c.bold(created.id)}: maas batches watch ${created.id}`),
    );
  });

  examples(
    apiKeyOption(
      batches
        .command('watch')
        .description('follow a batch to a final status (exit 0 completed; 1 failed, expired or cancelled)')
        .argument('<id>', 'batch id')
        .option('--interval <duration>', 'how often to look (default 2s)'),
    ),
    ['maas batches watch batch_…', 'maas batches watch batch_… -o json | jq .output_file_id'],
  ).action(async (id: string, opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'batches');
    return watch(rt, target, await gatewayClient(target), id, pollEvery(opts));
  });

  examples(
    apiKeyOption(
      batches
        .command('cancel')
        .description('stop a batch: lines already answered are kept and billed, the rest are not run')
        .argument('<id>', 'batch id'),
    ),
    ['maas batches cancel batch_…'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'batches');
    const client = await gatewayClient(target);
    const b = await viaSdk(target, () => client.batches.cancel(id));
    rt.out.print(b, () => rt.out.line(`Batch ${b.id}: ${paintBatch(b.status, rt.out.c)}`));
  });

  examples(
    apiKeyOption(
      batches
        .command('download')
        .description('write the output file (or with --errors the error file) to -o <file> or stdout')
        .argument('<id>', 'batch id')
        .option('--errors', 'the error file: lines that failed'),
    ),
    ['maas batches download batch_… -o output.jsonl', 'maas batches download batch_… --errors | jq .error'],
  ).action(async (id: string, opts: Opts, cmd: Command) => {
    const { rt, target, dest, bars } = keyedDownload(cmd, 'batches');
    const client = await gatewayClient(target);
    const b = await viaSdk(target, () => client.batches.retrieve(id));
    const fileId = opts.errors ? b.error_file_id : b.output_file_id;
    if (!fileId) {
      const which = opts.errors ? 'error file' : 'output file';
      const why = isFinal(b) ? '' : ` yet (it is ${b.status}: maas batches watch ${b.id})`;
      throw new CliError(`batch ${b.id} has no ${which}${why}`, EXIT.notFound, 'not_found');
    }
    const bytes = await viaSdk(target, () =>
      downloadFile(client, fileId, dest, createBar('download', 'bytes', bars)),
    );
    if (dest) rt.out.note(`Wrote ${formatBytes(bytes)} (${fileId}) to ${dest}`);
  });
}
