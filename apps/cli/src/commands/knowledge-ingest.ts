import type OpenAI from 'openai';
import { CliError, EXIT } from '../lib/errors.ts';
import { type KeyTarget, viaSdk } from '../lib/gateway-key.ts';
import type { Runtime } from '../lib/runtime.ts';
import { errorOf, fileColumns, type KnowledgeFile, stageOf } from './knowledge-view.ts';

/** Every file of a knowledge base, with its pipeline state. */
export async function allFiles(client: OpenAI, target: KeyTarget, id: string): Promise<KnowledgeFile[]> {
  return viaSdk(target, async () => {
    const out: KnowledgeFile[] = [];
    for await (const f of client.vectorStores.files.list(id, { limit: 100 }))
      out.push(f as unknown as KnowledgeFile);
    return out;
  });
}

/**
 * Polls the files until none is in progress: a spinner with each file's stage on a terminal, a note
 * per change otherwise. Prints the files; a failed file is named with its error and exits 1.
 */
export async function waitForFiles(
  rt: Runtime,
  target: KeyTarget,
  client: OpenAI,
  id: string,
  fileIds: string[],
  every: number,
): Promise<void> {
  const spinning = rt.out.human && Boolean(process.stderr.isTTY) && !('CI' in process.env);
  const spinner = rt.out.progress(`ingesting ${fileIds.length} file(s)`);
  const seen = new Map<string, string>();
  let files: KnowledgeFile[];
  for (;;) {
    files = (await allFiles(client, target, id)).filter((f) => fileIds.includes(f.id));
    for (const f of files) {
      const state = `${f.status} ${stageOf(f)}`;
      if (!spinning && rt.out.human && seen.get(f.id) !== state)
        rt.out.note(`${f.filename ?? f.id}: ${state}`);
      seen.set(f.id, state);
    }
    const done = files.filter((f) => f.status !== 'in_progress').length;
    spinner.update(
      `ingesting: ${done}/${fileIds.length} done · ${files
        .filter((f) => f.status === 'in_progress')
        .map((f) => `${f.filename ?? f.id} ${stageOf(f)}`)
        .join(', ')}`,
    );
    if (files.length >= fileIds.length && done === files.length) break;
    await new Promise((r) => setTimeout(r, every));
  }
  spinner.stop();
  rt.out.print(files, () => rt.out.table(files, fileColumns));
  const failed = files.filter((f) => f.status !== 'completed');
  if (failed.length)
    throw new CliError(
      `${failed.length} of ${files.length} file(s) not ingested:\n${failed
        .map((f) => `  ${f.filename ?? f.id} (${f.id}) ${f.status}: ${errorOf(f) ?? 'no error given'}`)
        .join('\n')}`,
      EXIT.general,
      'ingestion_failed',
    );
}
