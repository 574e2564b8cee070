import { randomBytes } from 'node:crypto';

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export const messageId = () => `msg_${randomBytes(12).toString('hex')}`;

/**
 * Anthropic's stop reason for an OpenAI finish reason. A `stop` that ended on one of the
 * request's stop sequences is `stop_sequence` when the upstream says which (vLLM's `stop_reason`).
 */
export function stopReasonOf(
  finish: unknown,
  matched: unknown,
  stopSequences: string[] | undefined,
): { stop_reason: StopReason; stop_sequence: string | null } {
  if (finish === 'length') return { stop_reason: 'max_tokens', stop_sequence: null };
  if (finish === 'tool_calls' || finish === 'function_call')
    return { stop_reason: 'tool_use', stop_sequence: null };
  if (finish === 'content_filter') return { stop_reason: 'refusal', stop_sequence: null };
  if (typeof matched === 'string' && stopSequences?.includes(matched))
    return { stop_reason: 'stop_sequence', stop_sequence: matched };
  return { stop_reason: 'end_turn', stop_sequence: null };
}

export interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/** Anthropic counts cache reads apart from input tokens. */
export function usageOf(usage: ChatUsage | null | undefined) {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    output_tokens: usage?.completion_tokens ?? 0,
    ...(cached > 0 ? { cache_read_input_tokens: cached } : {}),
  };
}

/** Parses a tool call's arguments; a model's broken JSON is kept, as a string, under `_raw`. */
export function toolInput(args: string): unknown {
  if (!args.trim()) return {};
  try {
    return JSON.parse(args);
  } catch {
    return { _raw: args };
  }
}

interface ChatChoice {
  message?: {
    content?: string | null;
    reasoning_content?: string | null;
    reasoning?: string | null;
    tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[] | null;
  };
  finish_reason?: string | null;
  stop_reason?: unknown;
}

/** An OpenAI chat completion as an Anthropic message. */
export function toAnthropicMessage(
  completion: { choices?: ChatChoice[]; usage?: ChatUsage | null },
  model: string,
  stopSequences: string[] | undefined,
) {
  const choice = completion.choices?.[0] ?? {};
  const msg = choice.message ?? {};
  const content: Record<string, unknown>[] = [];
  const reasoning = msg.reasoning_content ?? msg.reasoning;
  // OpenAI-compatible servers sign nothing: the block carries an empty signature
  if (reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  if (msg.content) content.push({ type: 'text', text: msg.content });
  for (const call of msg.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id ?? `toolu_${randomBytes(12).toString('hex')}`,
      name: call.function?.name ?? '',
      input: toolInput(call.function?.arguments ?? ''),
    });
  }
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model,
    content,
    ...stopReasonOf(choice.finish_reason, choice.stop_reason, stopSequences),
    usage: usageOf(completion.usage),
  };
}
