import { readOpenAiError, textOfChoices, usageFromOpenAi } from '../openai-shapes.ts';
import type { Adapter, Endpoint, ProviderConnection } from '../types.ts';
import { conformEmbeddings } from './embeddings.ts';
import { createPassthroughStream } from './passthrough-stream.ts';

const PATHS: Record<Endpoint, string> = {
  'chat.completions': '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  rerank: '/rerank',
  'images.generations': '/images/generations',
  'images.edits': '/images/edits',
  'images.variations': '/images/variations',
  'audio.speech': '/audio/speech',
  'audio.transcriptions': '/audio/transcriptions',
  'audio.translations': '/audio/translations',
};

/**
 * The base for every OpenAI-style server: vLLM, SGLang, llama.cpp server, Ollama, TGI, LM Studio
 * and hosted OpenAI-compatible APIs. Bodies pass through with the upstream's model name; streams
 * pass through byte for byte.
 */
export const openAiCompatibleAdapter: Adapter = {
  type: 'openai-compatible',

  supports: () => true,

  headers(conn: ProviderConnection) {
    return {
      ...conn.headers,
      'content-type': 'application/json',
      ...(conn.apiKey ? { authorization: `Bearer ${conn.apiKey}` } : {}),
    };
  },

  buildRequest(endpoint, body, upstreamModel, conn, opts) {
    const out: Record<string, unknown> = { ...body, model: upstreamModel };
    if (opts.stream && opts.includeUsage) {
      const given = body.stream_options;
      out.stream_options = { ...(given && typeof given === 'object' ? given : {}), include_usage: true };
    }
    return { path: conn.basePath + PATHS[endpoint], body: JSON.stringify(out) };
  },

  readResponse(buf, opts) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch {
      return { body: buf, usage: null, completionText: '' };
    }
    const usage = usageFromOpenAi((parsed as { usage?: unknown })?.usage);
    if (opts.endpoint === 'embeddings' && conformEmbeddings(parsed, opts.encodingFormat)) {
      return { body: JSON.stringify(parsed), usage, completionText: '' };
    }
    return { body: buf, usage, completionText: usage ? '' : textOfChoices(parsed, opts.endpoint) };
  },

  streamTranslator: (opts) => createPassthroughStream(opts),

  readError: readOpenAiError,

  probe: (conn) => ({ method: 'GET', path: `${conn.basePath}/models` }),
};
