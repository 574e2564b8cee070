import type { ServerResponse } from 'node:http';
import {
  base64OfFloats,
  completionLength,
  countTokens,
  echoTokens,
  embeddingOf,
  lastUserText,
  promptTokensOfMessages,
  relevanceOf,
  textOf,
} from './content.ts';
import type { Behavior } from './faults.ts';
import { DONE_FRAME, dataFrame, writeStream } from './sse.ts';
import { applyStop, type FakeToolCall, toolCallFor, toolResultText } from './tool-calls.ts';

export interface RouteContext {
  res: ServerResponse;
  body: Record<string, any>;
  behavior: Behavior;
  /** a per-upstream sequence number, for response ids */
  seq: number;
  models: string[];
}

export function sendJson(res: ServerResponse, status: number, payload: unknown, headers = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function openAiError(res: ServerResponse, status: number, message: string, headers = {}): void {
  const type =
    status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, status, { error: { message, type, param: null, code: type } }, headers);
}

const created = () => Math.floor(Date.now() / 1000);
const usageOf = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

export async function chatCompletions({ res, body, behavior, seq }: RouteContext): Promise<void> {
  if (!Array.isArray(body.messages)) return openAiError(res, 400, '`messages` is required');
  const id = `chatcmpl-fake-${seq}`;
  const model = String(body.model ?? 'fake-chat');
  const userText = lastUserText(body.messages);
  const call = toolCallFor(body, userText, seq);
  if (call) return toolCallAnswer({ res, body, behavior, seq, models: [] }, id, model, call);
  const echoed = echoTokens(
    toolResultText(body.messages) ?? userText,
    completionLength(body, behavior.chunks),
  );
  const { tokens, matched } = applyStop(echoed, body.stop);
  // cut by max_tokens: `length`, as real servers say
  const finish = !matched && echoed.length < behavior.chunks ? 'length' : 'stop';
  const stopReason = matched ? { stop_reason: matched } : {};
  const usage = usageOf(promptTokensOfMessages(body.messages), tokens.length);
  if (!body.stream || behavior.ignoreStream) {
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: created(),
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: tokens.join(''), refusal: null },
          logprobs: null,
          finish_reason: finish,
          ...stopReason,
        },
      ],
      ...(behavior.usage ? { usage } : {}),
    });
  }
  const includeUsage = behavior.usage && body.stream_options?.include_usage === true;
  const base = { id, object: 'chat.completion.chunk', created: created(), model };
  const frames = tokens.map((token, i) =>
    dataFrame({
      ...base,
      choices: [
        {
          index: 0,
          delta: i === 0 ? { role: 'assistant', content: token } : { content: token },
          logprobs: null,
          finish_reason: i === tokens.length - 1 ? finish : null,
          ...(i === tokens.length - 1 ? stopReason : {}),
        },
      ],
      ...(includeUsage ? { usage: null } : {}),
    }),
  );
  const tail = includeUsage ? [dataFrame({ ...base, choices: [], usage }), DONE_FRAME] : [DONE_FRAME];
  await writeStream(res, behavior, frames, tail);
}

/** The model calls a tool: one `tool_calls` entry, its arguments streamed in two pieces. */
async function toolCallAnswer(
  { res, body, behavior }: RouteContext,
  id: string,
  model: string,
  call: FakeToolCall,
): Promise<void> {
  const usage = usageOf(promptTokensOfMessages(body.messages), 1 + Math.ceil(call.arguments.length / 4));
  const fn = { name: call.name, arguments: call.arguments };
  if (!body.stream || behavior.ignoreStream) {
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: created(),
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [{ id: call.id, type: 'function', function: fn }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      ...(behavior.usage ? { usage } : {}),
    });
  }
  const includeUsage = behavior.usage && body.stream_options?.include_usage === true;
  const base = { id, object: 'chat.completion.chunk', created: created(), model };
  const half = Math.floor(call.arguments.length / 2);
  const chunk = (delta: unknown, finish: string | null) =>
    dataFrame({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const frames = [
    chunk(
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      },
      null,
    ),
    chunk({ tool_calls: [{ index: 0, function: { arguments: call.arguments.slice(0, half) } }] }, null),
    chunk({ tool_calls: [{ index: 0, function: { arguments: call.arguments.slice(half) } }] }, null),
    chunk({}, 'tool_calls'),
  ];
  const tail = includeUsage ? [dataFrame({ ...base, choices: [], usage }), DONE_FRAME] : [DONE_FRAME];
  await writeStream(res, behavior, frames, tail);
}

export async function completions({ res, body, behavior, seq }: RouteContext): Promise<void> {
  if (body.prompt === undefined) return openAiError(res, 400, '`prompt` is required');
  const prompt = Array.isArray(body.prompt) ? body.prompt.map(String).join(' ') : String(body.prompt);
  const id = `cmpl-fake-${seq}`;
  const model = String(body.model ?? 'fake-completion');
  const tokens = echoTokens(prompt, completionLength(body, behavior.chunks));
  const usage = usageOf(countTokens(prompt), tokens.length);
  if (!body.stream || behavior.ignoreStream) {
    return sendJson(res, 200, {
      id,
      object: 'text_completion',
      created: created(),
      model,
      choices: [{ index: 0, text: tokens.join(''), logprobs: null, finish_reason: 'stop' }],
      ...(behavior.usage ? { usage } : {}),
    });
  }
  const includeUsage = behavior.usage && body.stream_options?.include_usage === true;
  const base = { id, object: 'text_completion', created: created(), model };
  const frames = tokens.map((text, i) =>
    dataFrame({
      ...base,
      choices: [{ index: 0, text, logprobs: null, finish_reason: i === tokens.length - 1 ? 'stop' : null }],
      ...(includeUsage ? { usage: null } : {}),
    }),
  );
  const tail = includeUsage ? [dataFrame({ ...base, choices: [], usage }), DONE_FRAME] : [DONE_FRAME];
  await writeStream(res, behavior, frames, tail);
}

export async function embeddings({ res, body, behavior }: RouteContext): Promise<void> {
  const raw = body.input;
  if (raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0)) {
    return openAiError(res, 400, '`input` is required');
  }
  // a string, an array of strings, an array of token ids, or an array of arrays of token ids
  const inputs: string[] =
    typeof raw === 'string'
      ? [raw]
      : Array.isArray(raw) && raw.every((item) => typeof item === 'number')
        ? [raw.join(' ')]
        : (raw as unknown[]).map((item) => (Array.isArray(item) ? item.join(' ') : textOf(item)));
  const dimensions = typeof body.dimensions === 'number' && body.dimensions > 0 ? body.dimensions : 16;
  const base64 = body.encoding_format === 'base64';
  const promptTokens = inputs.reduce((sum, input) => sum + countTokens(input), 0);
  sendJson(res, 200, {
    object: 'list',
    model: String(body.model ?? 'fake-embed'),
    data: inputs.map((input, index) => {
      const vector = embeddingOf(input, dimensions);
      return { object: 'embedding', index, embedding: base64 ? base64OfFloats(vector) : vector };
    }),
    ...(behavior.usage ? { usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } } : {}),
  });
}

export async function rerank({ res, body, behavior, seq }: RouteContext): Promise<void> {
  if (typeof body.query !== 'string' || !Array.isArray(body.documents)) {
    return openAiError(res, 400, '`query` and `documents` are required');
  }
  const documents: string[] = body.documents.map((doc: unknown) =>
    textOf(typeof doc === 'string' ? doc : [doc]),
  );
  const ranked = documents
    .map((text, index) => ({ index, relevance_score: relevanceOf(body.query, text), text }))
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const topN = typeof body.top_n === 'number' ? body.top_n : ranked.length;
  const tokens = countTokens(body.query) + documents.reduce((sum, doc) => sum + countTokens(doc), 0);
  sendJson(res, 200, {
    id: `rerank-fake-${seq}`,
    model: String(body.model ?? 'fake-rerank'),
    results: ranked.slice(0, topN).map(({ index, relevance_score, text }) => ({
      index,
      relevance_score,
      ...(body.return_documents ? { document: { text } } : {}),
    })),
    ...(behavior.usage ? { usage: { total_tokens: tokens } } : {}),
  });
}

export function listModels(res: ServerResponse, models: string[]): void {
  sendJson(res, 200, {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-upstream' })),
  });
}
