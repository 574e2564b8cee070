import { statSync } from 'node:fs';
import type { Command, OptionValues } from 'commander';
import type OpenAI from 'openai';
import { usageError } from '../lib/errors.ts';
import { uploadFile } from '../lib/file-transfer.ts';
import { apiKeyOption, gatewayClient, keyed, viaSdk } from '../lib/gateway-key.ts';
import { barsEnabled, createBar, formatBytes } from '../lib/progress-bar.ts';
import { confirm } from '../lib/prompt.ts';
import { collect, examples, parseDuration, parseInteger } from '../lib/runtime.ts';
import { allFiles, waitForFiles } from './knowledge-ingest.ts';
import {
  fileColumns,
  filterOf,
  hitColumns,
  type KnowledgeBase,
  kbColumns,
  type SearchHit,
  showKnowledgeBase,
} from './knowledge-view.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;
const WHAT = 'knowledge bases';

/** --chunk-size / --chunk-overlap → a static chunking strategy (either alone keeps the other's default). */
function chunkingOf(opts: Opts) {
  if (
    opts.chunkSize === undefined &&
    opts.chunkOverlap === undefined &&
    opts.splitter === undefined &&
    opts.parentSize === undefined
  )
    return undefined;
  const size = opts.chunkSize ?? 800;
  const overlap = opts.chunkOverlap ?? Math.min(400, Math.floor(size / 2));
  return {
    type: 'static',
    static: {
      max_chunk_size_tokens: size,
      chunk_overlap_tokens: overlap,
      ...(opts.splitter ? { splitter: opts.splitter } : {}),
      ...(opts.parentSize !== undefined ? { parent_chunk_size_tokens: opts.parentSize } : {}),
    },
  };
}

async function addFiles(id: string, paths: string[], opts: Opts, cmd: Command): Promise<void> {
  const { rt, target } = keyed(cmd, WHAT);
  for (const p of paths) {
    let isFile = false;
    try {
      isFile = statSync(p).isFile();
    } catch (err) {
      throw usageError(`cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!isFile) throw usageError(`${p} is not a file`);
  }
  const attributes = filterOf(opts.attribute);
  const client = await gatewayClient(target);
  // the store first: a wrong id fails before anything is uploaded
  await viaSdk(target, () => client.vectorStores.retrieve(id));
  const fileIds: string[] = [];
  for (const path of paths) {
    const bar = createBar(`upload ${path}`, 'bytes', barsEnabled(rt.globals));
    const file = await uploadFile(target, { path, purpose: 'assistants', bar });
    if (rt.out.human) rt.out.note(`Uploaded ${path} (${formatBytes(file.bytes)}) as ${file.id}`);
    fileIds.push(file.id);
  }
  const attrs = attributes
    ? Object.fromEntries(
        ('filters' in attributes ? attributes.filters : [attributes]).map((f) => [f.key, f.value]),
      )
    : undefined;
  const batch = await viaSdk(target, () =>
    client.vectorStores.fileBatches.create(id, {
      file_ids: fileIds,
      ...(attrs ? { attributes: attrs } : {}),
    }),
  );
  if (opts.wait)
    return waitForFiles(rt, target, client, id, fileIds, opts.interval ? parseDuration(opts.interval) : 1000);
  rt.out.print(batch, () =>
    rt.out.line(`Added ${fileIds.length} file(s) to ${id} (batch ${batch.id}): maas kb files ${id}`),
  );
}

async function search(id: string, query: string, opts: Opts, cmd: Command): Promise<void> {
  const { rt, target } = keyed(cmd, WHAT);
  const filters = filterOf(opts.filter);
  const client = await gatewayClient(target);
  const page = await viaSdk(target, () =>
    client.post<{ search_query: string[]; data: SearchHit[] }>(
      `/vector_stores/${encodeURIComponent(id)}/search`,
      {
        body: {
          query,
          max_num_results: opts.limit,
          ...(filters ? { filters } : {}),
          ...(opts.scoreThreshold !== undefined || opts.ranker
            ? {
                ranking_options: {
                  ...(opts.ranker ? { ranker: opts.ranker } : {}),
                  ...(opts.scoreThreshold !== undefined ? { score_threshold: opts.scoreThreshold } : {}),
                },
              }
            : {}),
        },
      },
    ),
  );
  rt.out.print(page, () => rt.out.table(page.data, hitColumns));
}

export function registerKnowledgeCommands(program: Command): void {
  const kb = examples(
    program
      .command('kb')
      .alias('knowledge')
      .description(
        "knowledge bases of your API key's project (/v1/vector_stores): ingest files, search them",
      ),
    [
      'maas kb create handbook',
      'maas kb add vs_… notes.md report.pdf --wait',
      'maas kb search vs_… "refund policy" -n 5',
    ],
  );

  examples(
    apiKeyOption(
      kb
        .command('create')
        .description('create a knowledge base')
        .argument('<name>', 'its name')
        .option(
          '--embedding-model <model>',
          'an embedding model of the registry (default: the first the key may use)',
        )
        .option('--chunk-size <tokens>', 'tokens per chunk (100-4096, default 800)', parseInteger)
        .option(
          '--chunk-overlap <tokens>',
          'tokens shared by neighbouring chunks (at most half the size, default 400)',
          parseInteger,
        )
        .option(
          '--splitter <kind>',
          'recursive (default), heading (sections keep their headings) or parent_child',
        )
        .option(
          '--parent-size <tokens>',
          'parent_child: tokens per parent (default 4 × chunk size)',
          parseInteger,
        )
        .option(
          '--rerank-model <model>',
          'a rerank model of the registry: searches re-score their best hits with it',
        )
        .option('--description <text>', 'what it holds')
        .option('-q, --quiet', 'print only its id'),
    ),
    [
      'maas kb create handbook',
      'maas kb create docs --embedding-model bge-small --chunk-size 400 --chunk-overlap 80',
      'maas kb create manuals --splitter heading --rerank-model bge-reranker',
    ],
  ).action(async (name: string, opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, WHAT);
    const client = await gatewayClient(target);
    const body = {
      name,
      ...(opts.description ? { description: opts.description } : {}),
      ...(opts.embeddingModel ? { embedding_model: opts.embeddingModel } : {}),
      ...(chunkingOf(opts) ? { chunking_strategy: chunkingOf(opts) } : {}),
      ...(opts.rerankModel ? { retrieval: { rerank_model: opts.rerankModel } } : {}),
    };
    const created = (await viaSdk(target, () =>
      client.vectorStores.create(body as OpenAI.VectorStores.VectorStoreCreateParams),
    )) as unknown as KnowledgeBase;
    if (opts.quiet) return rt.out.line(created.id);
    rt.out.print(created, () =>
      rt.out.line(
        `Created knowledge base ${rt.out.c.bold(created.id)}: maas kb add ${created.id} <files...> --wait`,
      ),
    );
  });

  examples(apiKeyOption(kb.command('ls').alias('list').description('list knowledge bases, newest first')), [
    'maas kb ls',
    'maas kb ls -o json',
  ]).action(async (_opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, WHAT);
    const client = await gatewayClient(target);
    const rows = await viaSdk(target, async () => {
      const out: KnowledgeBase[] = [];
      for await (const k of client.vectorStores.list({ limit: 100 })) out.push(k as unknown as KnowledgeBase);
      return out;
    });
    rt.out.print(rows, () => rt.out.table(rows, kbColumns));
  });

  examples(
    apiKeyOption(
      kb
        .command('get')
        .description('show a knowledge base: status, file counts, settings')
        .argument('<id>', 'vs_… id'),
    ),
    ['maas kb get vs_…'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, WHAT);
    const client = await gatewayClient(target);
    showKnowledgeBase(
      rt,
      (await viaSdk(target, () => client.vectorStores.retrieve(id))) as unknown as KnowledgeBase,
    );
  });

  examples(
    apiKeyOption(
      kb
        .command('rm')
        .alias('delete')
        .description('delete a knowledge base and its index (the uploaded files stay in maas files)')
        .argument('<id>', 'vs_… id')
        .option('-y, --yes', 'do not ask for confirmation'),
    ),
    ['maas kb rm vs_… --yes'],
  ).action(async (id: string, opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, WHAT);
    const client = await gatewayClient(target);
    if (!opts.yes && !(await confirm(`delete knowledge base ${id}?`))) return rt.out.note('aborted');
    const res = await viaSdk(target, () => client.vectorStores.delete(id));
    rt.out.print(res, () => rt.out.line(`Deleted knowledge base ${id}`));
  });

  examples(
    apiKeyOption(
      kb
        .command('add')
        .description(
          'upload files (purpose assistants, with a progress bar) and add them to a knowledge base',
        )
        .argument('<id>', 'vs_… id')
        .argument('<files...>', 'local files: txt, md, html, pdf, docx, csv, xlsx')
        .option(
          '--attribute <key=value>',
          'an attribute of every file, for search filters (repeatable)',
          collect,
        )
        .option('--wait', 'follow each file through parse, split, embed and index; exit 1 if one fails')
        .option('--interval <duration>', 'with --wait: how often to look (default 1s)'),
    ),
    ['maas kb add vs_… guide.md report.pdf --wait', 'maas kb add vs_… *.md --attribute team=support'],
  ).action(addFiles);

  examples(
    apiKeyOption(
      kb
        .command('files')
        .description("a knowledge base's files: status, stage, time per stage, error")
        .argument('<id>', 'vs_… id'),
    ),
    ['maas kb files vs_…', 'maas kb files vs_… -o json | jq ".[].stages"'],
  ).action(async (id: string, _opts: Opts, cmd: Command) => {
    const { rt, target } = keyed(cmd, WHAT);
    const client = await gatewayClient(target);
    const files = await allFiles(client, target, id);
    rt.out.print(files, () => rt.out.table(files, fileColumns));
  });

  examples(
    apiKeyOption(
      kb
        .command('search')
        .description('search a knowledge base: hits with their score and its dense and lexical parts')
        .argument('<id>', 'vs_… id')
        .argument('<query>', 'what to look for')
        .option('-n, --limit <n>', 'at most this many hits (1-50, default 10)', parseInteger, 10)
        .option(
          '--filter <key=value>',
          'only files with this attribute (repeatable: all must match)',
          collect,
        )
        .option('--score-threshold <x>', 'drop hits scoring below this (0-1)', Number)
        .option('--ranker <ranker>', 'auto, none, or a rerank model to re-score the best hits with'),
    ),
    ['maas kb search vs_… "refund policy"', 'maas kb search vs_… "tariffs" -n 3 --filter year=2024 -o json'],
  ).action(search);
}
