import type { ServerResponse } from 'node:http';
import type { ChatHistoryItem, LlamaChat } from 'node-llama-cpp';
import { z } from 'zod';

const content = z.union([
  z.string(),
  z
    .array(z.looseObject({ type: z.string(), text: z.string().optional() }))
    .transform((parts) => parts.map((p) => p.text ?? '').join('')),
  z.null(),
]);

export const chatBody = z.looseObject({
  model: z.string(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: content.optional(),
      }),
    )
    .min(1),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string())])
    .nullable()
    .optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});
export type ChatBody = z.infer<typeof chatBody>;

/** OpenAI messages → node-llama-cpp history, ending with the empty model turn to complete. */
export function toHistory(messages: ChatBody['messages']): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    const text = m.content ?? '';
    if (m.role === 'system' || m.role === 'developer') history.push({ type: 'system', text });
    else if (m.role === 'assistant') history.push({ type: 'model', response: [text] });
    else history.push({ type: 'user', text });
  }
  history.push({ type: 'model', response: [] });
  return history;
}

const FINISH: Record<string, string> = { maxTokens: 'length', abort: 'stop' };

export interface Generated {
  text: string;
  finish: string;
  promptTokens: number;
  completionTokens: number;
}

/** Runs one chat completion on a pooled chat; streams text chunks through `onText` as they come. */
export async function generate(
  chat: LlamaChat,
  body: ChatBody,
  signal: AbortSignal,
  onText?: (text: string) => void,
): Promise<Generated> {
  const meter = chat.sequence.tokenMeter;
  const before = meter.usedOutputTokens;
  const stops = body.stop ? (Array.isArray(body.stop) ? body.stop : [body.stop]) : [];
  const history = toHistory(body.messages);
  // The sequence reuses a cached prefix, so the meter undercounts input: count the rendered prompt.
  const { contextText } = chat.chatWrapper.generateContextState({ chatHistory: history });
  const promptTokens = contextText.tokenize(chat.model.tokenizer).length;
  const result = await chat.generateResponse(history, {
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? 256,
    temperature: body.temperature ?? 1,
    ...(body.top_p != null ? { topP: body.top_p } : {}),
    ...(body.seed != null ? { seed: body.seed } : {}),
    ...(stops.length ? { customStopTriggers: stops } : {}),
    signal,
    stopOnAbortSignal: true,
    ...(onText ? { onTextChunk: (text: string) => text && onText(text) } : {}),
  });
  return {
    text: result.response,
    finish: FINISH[result.metadata.stopReason] ?? 'stop',
    promptTokens,
    completionTokens: meter.usedOutputTokens - before,
  };
}

export function usageOf(g: Generated) {
  return {
    prompt_tokens: g.promptTokens,
    completion_tokens: g.completionTokens,
    total_tokens: g.promptTokens + g.completionTokens,
  };
}

/** Writes an OpenAI `chat.completion.chunk` stream. */
export function sseWriter(res: ServerResponse, base: { id: string; created: number; model: string }) {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`);
  return {
    start: () => send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
    text: (text: string) => send([{ index: 0, delta: { content: text }, finish_reason: null }]),
    finish: (g: Generated, includeUsage: boolean) => {
      send([{ index: 0, delta: {}, finish_reason: g.finish }]);
      if (includeUsage) send([], { usage: usageOf(g) });
      res.end('data: [DONE]\n\n');
    },
  };
}
