import type { Command, OptionValues } from 'commander';
import { usageError } from '../lib/errors.ts';
import { downloadFile, type FileObject, uploadFile } from '../lib/file-transfer.ts';
import { apiKeyOption, gatewayClient, keyed, keyedDownload, viaSdk } from '../lib/gateway-key.ts';
import type { Column } from '../lib/output.ts';
import { barsEnabled, createBar, formatBytes } from '../lib/progress-bar.ts';
import { confirm } from '../lib/prompt.ts';
import { examples, parseDuration, parseInteger, type Runtime } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

const unixTime = (s: number | null | undefined) => (s ? new Date(s * 1000).toISOString() : null);

export const fileColumns: Column<FileObject>[] = [
  { header: 'id', value: (f) => f.id },
  { header: 'filename', value: (f) => f.filename },
  { header: 'purpose', value: (f) => f.purpose },
  { header: 'size', value: (f) => formatBytes(f.bytes) },
  { header: 'created', value: (f) => unixTime(f.created_at) },
  { header: 'expires', value: (f) => unixTime(f.expires_at) ?? 'never' },
];

export function showFile(rt: Runtime, f: FileObject): void {
  rt.out.print(f, () =>
    rt.out.fields([
      ['id', f.id],
      ['filename', f.filename],
      ['purpose', f.purpose],
      ['bytes', `${f.bytes} (${formatBytes(f.bytes)})`],
      ['created', unixTime(f.created_at)],
      ['expires', unixTime(f.expires_at) ?? 'never'],
      ['status', f.status],
    ]),
  );
}

/** `3600` (seconds) or a duration (`1h`, `30d`) → seconds. */
export function parseExpiresAfter(text: string): number {
  if (/^\d+$/.test(text.trim())) return Number(text);
  return Math.round(parseDuration(text) / 1000);
}

async function listFiles(cmd: Command, opts: Opts): Promise<void> {
  const { rt, target } = keyed(cmd, 'files');
  const client = await gatewayClient(target);
  const max = opts.limit ?? Number.POSITIVE_INFINITY;
  const rows = await viaSdk(target, async () => {
    const out: FileObject[] = [];
    const page = client.files.list({ purpose: opts.purpose, order: opts.order, limit: Math.min(max, 1000) });
    for await (const f of page) {
      out.push(f as FileObject);
      if (out.length >= max) break;
    }
    return out;
  });
  rt.out.print(rows, () => rt.out.table(rows, fileColumns));
}

async function upload(path: string, opts: Opts, cmd: Command): Promise<void> {
  const { rt, target } = keyed(cmd, 'files');
  const bar = createBar('upload  ', 'bytes', barsEnabled(rt.globals));
  const file = await uploadFile(target, {
    path,
    purpose: opts.purpose,
    expiresAfter: opts.expiresAfter,
    bar,
  });
  if (opts.quiet) return rt.out.line(file.id);
  rt.out.print(file, () =>
    rt.out.line(`Uploaded ${file.filename} (${formatBytes(file.bytes)}) as ${rt.out.c.bold(file.id)}`),
  );
}

export function registerFileCommands(program: Command): void {
  const files = examples(
    program
      .command('files')
      .alias('file')
      .description("files of your API key's project (/v1/files): batch input and output, uploads"),
    [
      'maas files upload requests.jsonl --purpose batch',
      'maas files ls --purpose batch',
      'maas files download file-… -o out.jsonl',
    ],
  );

  examples(
    apiKeyOption(
      files
        .command('ls')
        .alias('list')
        .description('list files, newest first')
        .option('--purpose <purpose>', 'only files of this purpose (batch, batch_output, …)')
        .option('--order <order>', 'desc (default) or asc by creation time')
        .option('--limit <n>', 'at most this many (default: all)', parseInteger),
    ),
    ['maas files ls', 'maas files ls --purpose batch_output -o json'],
  ).action((opts: Opts, cmd: Command) => listFiles(cmd, opts));

  examples(apiKeyOption(files.command('get').description('show one file').argument('<id>', 'file id')), [
    'maas files get file-…',
  ]).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'files');
    const client = await gatewayClient(target);
    showFile(rt, (await viaSdk(target, () => client.files.retrieve(id))) as FileObject);
  });

  examples(
    apiKeyOption(
      files
        .command('upload')
        .description('upload a file, streamed from disk, with a progress bar on a terminal')
        .argument('<path>', 'the file to upload (batch input: JSONL, one request per line)')
        .option('--purpose <purpose>', 'batch, fine-tune, assistants, user_data, … (default batch)', 'batch')
        .option(
          '--expires-after <time>',
          'delete it this long after upload: seconds or e.g. 1h, 7d (1h to 30d; batch files default 30d)',
          parseExpiresAfter,
        )
        .option('-q, --quiet', 'print only the file id'),
    ),
    [
      'maas files upload requests.jsonl',
      'maas files upload notes.pdf --purpose user_data --expires-after 7d',
      'ID=$(maas files upload requests.jsonl -q)',
    ],
  ).action(upload);

  examples(
    apiKeyOption(
      files
        .command('download')
        .description("write a file's content to -o <file> (with a progress bar) or to stdout")
        .argument('<id>', 'file id'),
    ),
    ['maas files download file-… -o results.jsonl', 'maas files download file-… | jq .custom_id'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target, dest, bars } = keyedDownload(cmd, 'files');
    const client = await gatewayClient(target);
    const bytes = await viaSdk(target, () =>
      downloadFile(client, id, dest, createBar('download', 'bytes', bars)),
    );
    if (dest) rt.out.note(`Wrote ${formatBytes(bytes)} to ${dest}`);
  });

  examples(
    apiKeyOption(
      files
        .command('delete')
        .alias('rm')
        .description('delete a file and its content')
        .argument('<id>', 'file id')
        .option('-y, --yes', 'do not ask for confirmation'),
    ),
    ['maas files rm file-… --yes'],
  ).action(async (id: string, opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, 'files');
    if (!id.trim()) throw usageError('which file? give its id');
    const client = await gatewayClient(target);
    if (!opts.yes && !(await confirm(`delete file ${id}?`))) return rt.out.note('aborted');
    const res = await viaSdk(target, () => client.files.delete(id));
    rt.out.print(res, () => rt.out.line(`Deleted file ${id}`));
  });
}
