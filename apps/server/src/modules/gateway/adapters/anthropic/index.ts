import { readOpenAiError } from '../openai-shapes.ts';
import type { Adapter, ProviderConnection } from '../types.ts';
import { fromMessagesResponse } from './from-messages.ts';
import { nativeMessages } from './native.ts';
import { createAnthropicStream } from './stream.ts';
import { toMessagesRequest } from './to-messages.ts';

const ANTHROPIC_VERSION = '2023-06-01';

/** `https://api.anthropic.com` and `https://api.anthropic.com/v1` both work as base URLs. */
const v1 = (conn: ProviderConnection) =>
  conn.basePath.endsWith('/v1') ? conn.basePath : `${conn.basePath}/v1`;

/** Anthropic's Messages API, translated to and from OpenAI chat completions (streams included). */
export const anthropicAdapter: Adapter = {
  type: 'anthropic',

  supports: (endpoint) => endpoint === 'chat.completions',

  headers(conn) {
    return {
      ...conn.headers,
      'content-type': 'application/json',
      'anthropic-version': conn.headers['anthropic-version'] ?? ANTHROPIC_VERSION,
      ...(conn.apiKey ? { 'x-api-key': conn.apiKey } : {}),
    };
  },

  buildRequest(_endpoint, body, upstreamModel, conn, opts) {
    const native = nativeMessages(body);
    return {
      path: `${v1(conn)}/messages`,
      body: JSON.stringify(
        native ? { ...native, model: upstreamModel } : toMessagesRequest(body, upstreamModel, opts.stream),
      ),
    };
  },

  readResponse(buf, opts) {
    let parsed: Record<string, any>;
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch {
      return { body: buf, usage: null, completionText: '' };
    }
    const { body, usage, text } = fromMessagesResponse(parsed, opts.model);
    if (opts.native)
      return { body: JSON.stringify({ ...parsed, model: opts.model }), usage, completionText: text };
    return { body: JSON.stringify(body), usage, completionText: text };
  },

  streamTranslator: (opts) => createAnthropicStream(opts),

  readError: readOpenAiError,

  probe: (conn) => ({ method: 'GET', path: `${v1(conn)}/models` }),
};
