/**
 * Tool calls and stop sequences of the fake OpenAI-style upstream, deterministic like the rest:
 * a request with `tools` whose last message is the user's asks for one call, with arguments made
 * from the tool's parameter schema; a stop sequence cuts the echo where it appears (reported in
 * `stop_reason`, as vLLM does).
 */

export interface FakeToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface ToolSpec {
  function?: { name?: unknown; parameters?: { properties?: Record<string, { type?: unknown }> } };
}

/** the call the fake model makes, or null when it answers in text */
export function toolCallFor(body: Record<string, any>, userText: string, seq: number): FakeToolCall | null {
  const tools: ToolSpec[] = Array.isArray(body.tools) ? body.tools : [];
  if (tools.length === 0 || body.tool_choice === 'none') return null;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  if (messages[messages.length - 1]?.role !== 'user') return null;
  const forced = body.tool_choice?.function?.name;
  const tool = tools.find((t) => t.function?.name === forced) ?? tools[0]!;
  const input: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(tool.function?.parameters?.properties ?? {})) {
    input[name] =
      schema?.type === 'number' || schema?.type === 'integer'
        ? 1
        : schema?.type === 'boolean'
          ? true
          : userText;
  }
  return {
    id: `call_fake_${seq}`,
    name: String(tool.function?.name ?? 'tool'),
    arguments: JSON.stringify(input),
  };
}

/** the text a tool result answers with: the last `tool` message's content, when it is the last message */
export function toolResultText(messages: unknown): string | null {
  if (!Array.isArray(messages)) return null;
  const last = messages[messages.length - 1];
  return last?.role === 'tool' && typeof last.content === 'string' ? last.content : null;
}

/** tokens up to the first that holds a stop sequence, and that sequence (null: none matched) */
export function applyStop(tokens: string[], stop: unknown): { tokens: string[]; matched: string | null } {
  const sequences = (typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : []).filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
  for (let i = 0; i < tokens.length; i++) {
    const matched = sequences.find((s) => tokens[i]!.includes(s));
    if (matched) return { tokens: tokens.slice(0, i), matched };
  }
  return { tokens, matched: null };
}
