import { z } from 'zod';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { badRequest } from './errors.ts';
import type { Knowledge } from './knowledge.ts';
import { rankingFor, type SearchHit, searchStores } from './search.ts';
import { filter, RANKERS } from './wire.ts';

/** OpenAI's `file_search` tool, as a request to maas names it. */
export const fileSearchTool = z.looseObject({
  type: z.literal('file_search'),
  vector_store_ids: z.array(z.string().min(1).max(200)).min(1).max(10),
  max_num_results: z.number().int().min(1).max(50).optional(),
  filters: filter.nullish(),
  ranking_options: z
    .looseObject({
      ranker: z.union([z.enum(RANKERS), z.string().min(1).max(200)]).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
});
export type FileSearchTool = z.infer<typeof fileSearchTool>;

/** `tools[0].vector_store_ids` for a zod path under `param`. */
const paramOf = (param: string, path: readonly PropertyKey[]) =>
  path.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : `${out}.${String(p)}`), param);

export function parseFileSearchTool(raw: unknown, param: string): FileSearchTool {
  const parsed = fileSearchTool.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = paramOf(param, issue.path);
  throw badRequest(`Invalid '${at}': ${issue.message}.`, at);
}

/**
 * Runs a `file_search` tool for `query` as the key: its stores must be the key's project's (another
 * project's or org's are not found), searched with the first store's retrieval settings unless the
 * tool says otherwise.
 */
export async function runFileSearch(
  knowledge: Knowledge,
  key: KeyPrincipal,
  tool: FileSearchTool,
  query: string,
  param: string,
): Promise<SearchHit[]> {
  const scope = { orgId: key.orgId, projectId: key.projectId };
  const stores = [];
  for (const [i, id] of tool.vector_store_ids.entries()) {
    try {
      stores.push(await knowledge.stores.usable(scope, id));
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found')
        throw new AppError('not_found', err.message, undefined, { param: `${param}.vector_store_ids[${i}]` });
      throw err;
    }
  }
  const first = stores[0]!;
  const hits = await searchStores(knowledge.deps, key, {
    stores,
    queries: [query],
    maxResults: tool.max_num_results ?? first.retrieval.max_num_results,
    filters: tool.filters ?? undefined,
    ...rankingFor(first, tool.ranking_options?.ranker),
    scoreThreshold: tool.ranking_options?.score_threshold ?? first.retrieval.score_threshold,
  });
  for (const s of stores) await knowledge.stores.touch(s);
  return hits;
}

/** The system message that hands the model its numbered sources. */
export function sourcesMessage(hits: { filename: string; text: string }[]): string {
  const sources = hits.map((h, i) => `[${i + 1}] ${h.filename}\n${h.text}`).join('\n\n');
  return `Answer the user with the sources below. Cite a source by its number in brackets, like [1]. If the sources do not hold the answer, say so.\n\n${sources}`;
}

/** What the Responses API gets of a file_search hit. */
export interface FileSearchResult {
  file_id: string;
  filename: string;
  score: number;
  text: string;
  attributes: Record<string, string | number | boolean>;
}

/**
 * The Responses API's file_search, emulated: validates one `file_search` tool (`param` names it in
 * refusals) and runs it for `query` as the key.
 */
export function createFileSearchPort(knowledge: Knowledge) {
  return {
    async search(
      key: KeyPrincipal,
      tool: unknown,
      param: string,
      query: string,
    ): Promise<FileSearchResult[]> {
      const hits = await runFileSearch(knowledge, key, parseFileSearchTool(tool, param), query, param);
      return hits.map((h) => ({
        file_id: h.fileId,
        filename: h.filename,
        score: h.score,
        text: h.text,
        attributes: h.attributes,
      }));
    },
    prompt: (sources: { filename: string; text: string }[]) => sourcesMessage(sources),
  };
}
