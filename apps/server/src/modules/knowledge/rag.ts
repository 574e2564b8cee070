import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { KeyPrincipal } from '../../http/principal.ts';
import { badRequest } from './errors.ts';
import { parseFileSearchTool, runFileSearch, sourcesMessage } from './file-search.ts';
import type { Knowledge } from './knowledge.ts';
import { rankingFor, type SearchHit, searchStores } from './search.ts';

/** The `knowledge` extension of /v1/chat/completions. */
const knowledgeField = z.strictObject({
  vector_store_ids: z.array(z.string().min(1).max(200)).min(1).max(10),
  top_k: z.number().int().min(1).max(50).default(5),
  score_threshold: z.number().min(0).max(1).default(0),
});

export interface Citation {
  index: number;
  file_id: string;
  filename: string;
  chunk_id: string;
  score: number;
}

/** The last user message's text: what the sources are retrieved for. */
function questionOf(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content))
      return m.content
        .map((p: { type?: unknown; text?: unknown }) =>
          p?.type === 'text' && typeof p.text === 'string' ? p.text : '',
        )
        .join(' ')
        .trim();
  }
  return '';
}

/** JSON with every non-ASCII character escaped: fit for an HTTP header. */
const asciiJson = (v: unknown) =>
  JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The gateway's hook for RAG chat: a chat request with `knowledge: {vector_store_ids, top_k}` gets
 * its sources retrieved (as the key, from the key's project's stores), a system message with them
 * numbered, and `citations` in the answer (and in the `x-maas-citations` header, for streams).
 */
export function createRagHook(knowledge: Knowledge) {
  return async (req: FastifyRequest, reply: FastifyReply, endpoint: string): Promise<void> => {
    const body = req.body as Record<string, unknown> | null;
    if (endpoint !== 'chat.completions' || !body || typeof body !== 'object') return;
    const key = req.principal as KeyPrincipal;
    const fileSearch = takeFileSearchTools(body);
    if (body.knowledge === undefined && fileSearch.length === 0) return;
    let hits: SearchHit[] = [];
    if (body.knowledge !== undefined) {
      const parsed = knowledgeField.safeParse(body.knowledge);
      if (!parsed.success)
        throw badRequest(
          `Invalid 'knowledge': ${parsed.error.issues[0]?.message ?? 'bad value'}`,
          'knowledge',
        );
      delete body.knowledge;
      const scope = { orgId: key.orgId, projectId: key.projectId };
      const stores = [];
      for (const id of parsed.data.vector_store_ids) stores.push(await knowledge.stores.usable(scope, id));
      const question = questionOf(body.messages);
      if (question)
        hits = await searchStores(knowledge.deps, key, {
          stores,
          queries: [question],
          maxResults: parsed.data.top_k,
          ...rankingFor(stores[0]!, undefined),
          scoreThreshold: parsed.data.score_threshold,
        });
    }
    // file_search tools (which OpenAI-compatible upstreams lack) are run here, their hits merged in
    const question = questionOf(body.messages);
    for (const { tool, param } of fileSearch) {
      const parsed = parseFileSearchTool(tool, param);
      if (question) hits = mergeHits(hits, await runFileSearch(knowledge, key, parsed, question, param));
    }
    const citations: Citation[] = hits.map((h, i) => ({
      index: i + 1,
      file_id: h.fileId,
      filename: h.filename,
      chunk_id: h.chunkId,
      score: h.score,
    }));
    if (hits.length > 0)
      body.messages = [{ role: 'system', content: sourcesMessage(hits) }, ...(body.messages as unknown[])];
    reply.header('x-maas-citations', asciiJson(citations));
    // a JSON answer carries them too: the reply's send, for this request only
    const send = reply.send.bind(reply);
    reply.send = ((payload: unknown) => send(withCitations(payload, citations))) as typeof reply.send;
  };
}

/**
 * Takes the `file_search` tools out of a chat request (with a `tool_choice` that names one), so the
 * upstream sees only the tools it can call; each with the param that names it, for refusals.
 */
function takeFileSearchTools(body: Record<string, unknown>): { tool: unknown; param: string }[] {
  if (!Array.isArray(body.tools)) return [];
  const taken: { tool: unknown; param: string }[] = [];
  const kept: unknown[] = [];
  body.tools.forEach((tool: { type?: unknown } | null, i: number) => {
    if (tool?.type === 'file_search') taken.push({ tool, param: `tools[${i}]` });
    else kept.push(tool);
  });
  if (taken.length === 0) return taken;
  if (kept.length > 0) body.tools = kept;
  else {
    delete body.tools;
    delete body.tool_choice;
    delete body.parallel_tool_calls;
  }
  const choice = body.tool_choice as { type?: unknown } | undefined;
  if (choice && typeof choice === 'object' && choice.type === 'file_search') delete body.tool_choice;
  return taken;
}

/** hits of several searches in one list, best first, each chunk once */
function mergeHits(a: SearchHit[], b: SearchHit[]): SearchHit[] {
  const seen = new Set(a.map((h) => h.chunkId));
  return [...a, ...b.filter((h) => !seen.has(h.chunkId))].sort((x, y) => y.score - x.score);
}

function withCitations(payload: unknown, citations: Citation[]): unknown {
  const text = Buffer.isBuffer(payload)
    ? payload.toString('utf8')
    : typeof payload === 'string'
      ? payload
      : null;
  if (text === null) return payload;
  try {
    const answer = JSON.parse(text) as Record<string, unknown>;
    if (!answer || typeof answer !== 'object' || !Array.isArray(answer.choices)) return payload;
    return JSON.stringify({ ...answer, citations });
  } catch {
    return payload;
  }
}
