import { randomBytes } from 'node:crypto';
import type { KeyPrincipal } from '../../../http/principal.ts';
import type { Item } from './input-items.ts';
import { badRequest, type CreateResponseBody } from './responses-body.ts';

export interface FileSearchResult {
  file_id: string;
  filename: string;
  score: number;
  text: string;
  attributes: Record<string, string | number | boolean>;
}

/** The knowledge module's file search, as the Responses API uses it. */
export interface FileSearchPort {
  /** runs one `file_search` tool as the key (`param` names the tool in refusals) */
  search(key: KeyPrincipal, tool: unknown, param: string, query: string): Promise<FileSearchResult[]>;
  /** the system message that hands the model its numbered sources */
  prompt(sources: FileSearchResult[]): string;
}

/** What a response's file searches found: the output items that lead the answer, and the sources. */
export interface FileSearchDone {
  leading: Item[];
  sources: FileSearchResult[];
}

const RESULTS_INCLUDE = 'file_search_call.results';

/** The last user message's text in the conversation: what the sources are searched for. */
function queryOf(conversation: Item[]): string {
  for (let i = conversation.length - 1; i >= 0; i--) {
    const item = conversation[i]!;
    if (item.type !== 'message' || item.role !== 'user') continue;
    const parts = (item.content as Item[] | undefined) ?? [];
    return parts
      .map((p) => (p.type === 'input_text' && typeof p.text === 'string' ? p.text : ''))
      .join(' ')
      .trim();
  }
  return '';
}

/**
 * OpenAI's hosted `file_search` for upstreams that lack it: maas searches the tools' vector stores
 * for the last user message, hands the model the numbered sources in a system message, and answers
 * with a `file_search_call` item (its results when `include` asks for them). Null: no such tool.
 */
export async function runFileSearchTools(
  port: FileSearchPort | null,
  key: KeyPrincipal,
  body: CreateResponseBody,
  conversation: Item[],
  chat: Record<string, unknown>,
): Promise<FileSearchDone | null> {
  const tools = (body.tools ?? []).flatMap((tool, i) =>
    tool.type === 'file_search' ? [{ tool, param: `tools[${i}]` }] : [],
  );
  if (tools.length === 0) return null;
  if (!port) throw badRequest('file_search is not available on this server.', tools[0]!.param);
  const query = queryOf(conversation);
  const leading: Item[] = [];
  const sources: FileSearchResult[] = [];
  const include = Array.isArray(body.include) && body.include.includes(RESULTS_INCLUDE);
  for (const { tool, param } of tools) {
    const found = query ? await port.search(key, tool, param, query) : [];
    for (const hit of found)
      if (!sources.some((s) => s.file_id === hit.file_id && s.text === hit.text)) sources.push(hit);
    leading.push({
      id: `fs_${randomBytes(16).toString('hex')}`,
      type: 'file_search_call',
      status: 'completed',
      queries: query ? [query] : [],
      results: include ? found.map((h) => ({ ...h })) : null,
    });
  }
  sources.sort((a, b) => b.score - a.score);
  if (sources.length > 0) {
    const messages = chat.messages as unknown[];
    const system = body.instructions ? 1 : 0;
    messages.splice(system, 0, { role: 'system', content: port.prompt(sources) });
  }
  return { leading, sources };
}

/**
 * The output with the searches' items first and each `[n]` the model wrote in its text as OpenAI's
 * `file_citation` annotation (index: where the marker stands in the text).
 */
export function withFileSearch<T extends { output: Item[] }>(outcome: T, done: FileSearchDone | null): T {
  if (!done) return outcome;
  const output = outcome.output.map((item) => {
    if (item.type !== 'message' || !Array.isArray(item.content)) return item;
    return {
      ...item,
      content: (item.content as Item[]).map((part) =>
        part.type === 'output_text' && typeof part.text === 'string'
          ? { ...part, annotations: citationsIn(part.text, done.sources) }
          : part,
      ),
    };
  });
  const already = output.length > 0 && output[0]?.type === 'file_search_call';
  return { ...outcome, output: already ? output : [...done.leading, ...output] };
}

function citationsIn(text: string, sources: FileSearchResult[]): Item[] {
  const out: Item[] = [];
  for (const m of text.matchAll(/\[(\d{1,3})\]/g)) {
    const source = sources[Number(m[1]) - 1];
    if (source)
      out.push({ type: 'file_citation', index: m.index, file_id: source.file_id, filename: source.filename });
  }
  return out;
}
