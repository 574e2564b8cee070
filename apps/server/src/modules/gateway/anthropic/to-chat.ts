import { invalidRequest } from './anthropic-error.ts';
import type { ContentBlock, CountTokensBody, MessagesBody } from './messages-body.ts';

type KnownBlock = Extract<
  ContentBlock,
  { type: 'text' | 'image' | 'tool_use' | 'tool_result' | 'thinking' | 'redacted_thinking' }
>;
const KNOWN = new Set(['text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking']);

type ChatMessage = Record<string, unknown>;
type ChatPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/**
 * An Anthropic Messages request as an OpenAI chat completion request, for OpenAI-compatible
 * upstreams. Dropped on the way: `cache_control` (no such thing there), thinking blocks of earlier
 * turns (their signatures mean nothing to another model) and the `thinking` setting.
 */
export function toChatBody(
  body: MessagesBody,
  opts: TranslateOptions = { dropAnthropicOnly: false },
): Record<string, unknown> {
  const chat: Record<string, unknown> = {
    model: body.model,
    messages: toChatMessages(body, opts),
    max_tokens: body.max_tokens,
  };
  const tools = chatTools(body, opts);
  if (tools.length) chat.tools = tools;
  const choice = body.tool_choice;
  if (choice) {
    chat.tool_choice =
      choice.type === 'auto'
        ? 'auto'
        : choice.type === 'any'
          ? 'required'
          : choice.type === 'none'
            ? 'none'
            : { type: 'function', function: { name: choice.name } };
    if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true && tools.length)
      chat.parallel_tool_calls = false;
  }
  if (body.stop_sequences?.length) chat.stop = body.stop_sequences;
  if (body.temperature !== undefined) chat.temperature = body.temperature;
  if (body.top_p !== undefined) chat.top_p = body.top_p;
  // not in OpenAI's API; vLLM, SGLang, llama.cpp and Ollama honour it, others ignore it
  if (body.top_k !== undefined) chat.top_k = body.top_k;
  if (typeof body.metadata?.user_id === 'string') chat.user = body.metadata.user_id;
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

/** The prompt part alone (count_tokens has no max_tokens). */
export function toChatPrompt(body: CountTokensBody): Record<string, unknown> {
  const opts = { dropAnthropicOnly: true };
  const chat: Record<string, unknown> = { model: body.model, messages: toChatMessages(body, opts) };
  const tools = chatTools(body, opts);
  if (tools.length) chat.tools = tools;
  return chat;
}

export interface TranslateOptions {
  /**
   * Drop what only Anthropic understands (documents, server tools …) instead of refusing it: the
   * request goes to Anthropic unchanged anyway, the chat body only serves limits and metering.
   */
  dropAnthropicOnly: boolean;
}

type Tool = NonNullable<CountTokensBody['tools']>[number];
type CustomTool = Extract<Tool, { input_schema: unknown }>;

function chatTools(body: CountTokensBody, opts: TranslateOptions) {
  const out: ReturnType<typeof toChatTool>[] = [];
  body.tools?.forEach((tool, i) => {
    if ('input_schema' in tool && tool.input_schema) out.push(toChatTool(tool as CustomTool));
    else if (!opts.dropAnthropicOnly)
      throw anthropicOnly(`tools.${i}`, `server tool \`${String(tool.type)}\``);
  });
  return out;
}

const anthropicOnly = (param: string, what: string) =>
  invalidRequest(`${param}: ${what} is supported only on models served by an Anthropic provider.`, param);

function toChatTool(tool: CustomTool) {
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.input_schema,
    },
  };
}

function toChatMessages(body: CountTokensBody, opts: TranslateOptions): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = typeof body.system === 'string' ? body.system : body.system?.map((b) => b.text).join('\n');
  if (system) out.push({ role: 'system', content: system });
  body.messages.forEach((m, i) => {
    if (typeof m.content === 'string') {
      out.push({ role: m.role, content: m.content });
      return;
    }
    const known = m.content.filter((b, j): b is KnownBlock => {
      if (KNOWN.has(b.type)) return true;
      if (!opts.dropAnthropicOnly) throw anthropicOnly(`messages.${i}.content.${j}`, `a \`${b.type}\` block`);
      return false;
    });
    if (m.role === 'assistant') out.push(assistantMessage(known));
    else out.push(...userMessages(known));
  });
  return out;
}

/** text and tool_use blocks → content and tool_calls */
function assistantMessage(blocks: KnownBlock[]): ChatMessage {
  let text = '';
  const calls: unknown[] = [];
  for (const b of blocks) {
    if (b.type === 'text') text += b.text;
    else if (b.type === 'tool_use')
      calls.push({
        id: b.id,
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
      });
  }
  return { role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) };
}

/** tool_result blocks → `tool` messages (first, as OpenAI wants them right after the call); the rest → one user message */
function userMessages(blocks: KnownBlock[]): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: ChatPart[] = [];
  for (const b of blocks) {
    if (b.type === 'tool_result') {
      const content =
        typeof b.content === 'string'
          ? b.content
          : (b.content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');
      tools.push({
        role: 'tool',
        tool_call_id: b.tool_use_id,
        content: b.is_error ? `Error: ${content}` : content,
      });
    } else if (b.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b.type === 'image') {
      const url =
        b.source.type === 'base64' ? `data:${b.source.media_type};base64,${b.source.data}` : b.source.url;
      parts.push({ type: 'image_url', image_url: { url } });
    }
  }
  if (parts.length === 0) return tools;
  const onlyText = parts.every((p) => p.type === 'text');
  const content = onlyText ? parts.map((p) => (p as { text: string }).text).join('\n') : parts;
  return [...tools, { role: 'user', content }];
}
