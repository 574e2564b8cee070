import type { Item } from './input-items.ts';
import { itemId } from './item-ids.ts';
import { type ChatUsage, endOf, usageOf } from './response-object.ts';

interface ChatMessage {
  content?: string | null;
  refusal?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[] | null;
}

export interface ChatCompletion {
  choices?: { message?: ChatMessage; finish_reason?: string | null }[];
  usage?: ChatUsage | null;
}

/** What a chat completion makes of a response: its output items, usage and ending. */
export interface ResponseOutcome {
  output: Item[];
  usage: Record<string, unknown>;
  status: 'completed' | 'incomplete';
  incompleteDetails: Record<string, unknown> | null;
}

export const reasoningItem = (text: string, id = itemId('rs')): Item => ({
  id,
  type: 'reasoning',
  summary: [],
  content: [{ type: 'reasoning_text', text }],
});

export const messageItem = (text: string, id = itemId('msg'), status = 'completed'): Item => ({
  id,
  type: 'message',
  status,
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
});

export const functionCallItem = (
  callId: string,
  name: string,
  args: string,
  id = itemId('fc'),
  status = 'completed',
): Item => ({ id, type: 'function_call', status, call_id: callId, name, arguments: args });

/** A chat completion as the output of a response (reasoning, the assistant's text, function calls). */
export function fromChatCompletion(completion: ChatCompletion): ResponseOutcome {
  const choice = completion.choices?.[0] ?? {};
  const msg = choice.message ?? {};
  const output: Item[] = [];
  const reasoning = msg.reasoning_content ?? msg.reasoning;
  if (reasoning) output.push(reasoningItem(reasoning));
  if (msg.content) output.push(messageItem(msg.content));
  else if (msg.refusal)
    output.push({
      id: itemId('msg'),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'refusal', refusal: msg.refusal }],
    });
  for (const call of msg.tool_calls ?? [])
    output.push(
      functionCallItem(
        call.id ?? itemId('fc').replace('fc_', 'call_'),
        call.function?.name ?? '',
        call.function?.arguments ?? '',
      ),
    );
  return { output, usage: usageOf(completion.usage), ...endOf(choice.finish_reason) };
}
