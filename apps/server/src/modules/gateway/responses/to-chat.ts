import type { Item } from './input-items.ts';
import type { CreateResponseBody, FunctionTool } from './responses-body.ts';

type ChatMessage = Record<string, unknown>;

/**
 * A Responses API request as a chat completion: `instructions` as the first system message, the
 * conversation's items as messages (a model's function calls as the assistant's `tool_calls`, their
 * outputs as `tool` messages; developer messages as system ones, reasoning items left out),
 * function tools, `tool_choice`, `max_output_tokens` as `max_tokens`, sampling fields, `text.format`
 * as `response_format`, `reasoning.effort` as `reasoning_effort`.
 */
export function toChatBody(body: CreateResponseBody, conversation: Item[]): Record<string, unknown> {
  const messages: ChatMessage[] = [];
  if (body.instructions) messages.push({ role: 'system', content: body.instructions });
  for (const item of conversation) addItem(messages, item);
  const chat: Record<string, unknown> = { model: body.model, messages };
  // file_search tools are run by maas before the call (file-search.ts): the upstream sees functions only
  const functions = (body.tools ?? []).filter((t) => t.type === 'function') as FunctionTool[];
  if (functions.length) chat.tools = functions.map(toChatTool);
  const choice = body.tool_choice;
  const hostedOnly = functions.length === 0 && (body.tools?.length ?? 0) > 0;
  if (choice && !hostedOnly && (typeof choice === 'string' || choice.type === 'function'))
    chat.tool_choice =
      typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
  if (body.parallel_tool_calls != null) chat.parallel_tool_calls = body.parallel_tool_calls;
  if (body.max_output_tokens != null) chat.max_tokens = body.max_output_tokens;
  if (body.temperature != null) chat.temperature = body.temperature;
  if (body.top_p != null) chat.top_p = body.top_p;
  if (body.user) chat.user = body.user;
  if (body.reasoning?.effort) chat.reasoning_effort = body.reasoning.effort;
  const format = body.text?.format;
  if (format?.type === 'json_object') chat.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema')
    chat.response_format = {
      type: 'json_schema',
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.description ? { description: format.description } : {}),
        ...(format.strict != null ? { strict: format.strict } : {}),
      },
    };
  if (body.stream) {
    chat.stream = true;
    // the usage chunk is read for the response's usage (and not passed on as is)
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

function toChatTool(tool: FunctionTool) {
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      parameters: tool.parameters ?? { type: 'object', properties: {} },
      ...(tool.strict != null ? { strict: tool.strict } : {}),
    },
  };
}

function addItem(messages: ChatMessage[], item: Item): void {
  if (item.type === 'message') {
    const role = item.role === 'developer' ? 'system' : (item.role as string);
    messages.push({ role, content: chatContent(item.content as Item[]) });
    return;
  }
  if (item.type === 'function_call') {
    const call = {
      id: item.call_id,
      type: 'function',
      function: { name: item.name, arguments: item.arguments },
    };
    const last = messages[messages.length - 1];
    // calls that follow the assistant's text (or other calls) belong to the same assistant turn
    if (last?.role === 'assistant') {
      last.tool_calls = [...((last.tool_calls as unknown[] | undefined) ?? []), call];
      return;
    }
    messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    return;
  }
  if (item.type === 'function_call_output')
    messages.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
  // reasoning items stay with maas: OpenAI-compatible upstreams take no reasoning input
}

/** Text-only content as a string (every upstream takes it); images as OpenAI's parts. */
function chatContent(parts: Item[]): string | Item[] {
  if (parts.every((p) => p.type !== 'input_image'))
    return parts.map((p) => (p.type === 'refusal' ? p.refusal : p.text)).join('');
  return parts.map((p) =>
    p.type === 'input_image'
      ? { type: 'image_url', image_url: { url: p.image_url, detail: p.detail } }
      : { type: 'text', text: p.type === 'refusal' ? p.refusal : p.text },
  );
}
