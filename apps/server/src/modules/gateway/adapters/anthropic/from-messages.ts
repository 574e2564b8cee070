import type { Usage } from '../types.ts';

type Json = Record<string, any>;

export const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
  pause_turn: 'stop',
};

/** Anthropic's usage object as our Usage (cache reads and writes count as prompt tokens). */
export function usageFromAnthropic(u: Json | undefined | null): Usage | null {
  if (!u || typeof u !== 'object') return null;
  const n = (v: unknown) => (typeof v === 'number' && v >= 0 ? v : 0);
  const cached = n(u.cache_read_input_tokens);
  return {
    promptTokens: n(u.input_tokens) + cached + n(u.cache_creation_input_tokens),
    completionTokens: n(u.output_tokens),
    cachedTokens: cached,
    reasoningTokens: 0,
    raw: u,
  };
}

export function openAiUsage(u: Usage): Json {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
  };
}

/** Translates an Anthropic message into an OpenAI chat completion. */
export function fromMessagesResponse(
  msg: Json,
  model: string,
): { body: Json; usage: Usage | null; text: string } {
  let text = '';
  let reasoning = '';
  const toolCalls: Json[] = [];
  for (const block of Array.isArray(msg.content) ? (msg.content as Json[]) : []) {
    if (block.type === 'text') text += block.text ?? '';
    else if (block.type === 'thinking') reasoning += block.thinking ?? '';
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const usage = usageFromAnthropic(msg.usage);
  const message: Json = { role: 'assistant', content: text || (toolCalls.length ? null : ''), refusal: null };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length) message.tool_calls = toolCalls;
  const body: Json = {
    id: msg.id ?? 'chatcmpl-anthropic',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      { index: 0, message, logprobs: null, finish_reason: FINISH_REASONS[msg.stop_reason] ?? 'stop' },
    ],
  };
  if (usage) body.usage = openAiUsage(usage);
  return { body, usage, text: text + reasoning + toolCalls.map((c) => c.function.arguments).join('') };
}
