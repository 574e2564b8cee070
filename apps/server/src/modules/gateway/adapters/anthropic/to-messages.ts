type Json = Record<string, any>;

const DEFAULT_MAX_TOKENS = 4096;

/** Translates an OpenAI chat completion request into an Anthropic Messages API request. */
export function toMessagesRequest(body: Json, upstreamModel: string, stream: boolean): Json {
  const system: string[] = [];
  const messages: { role: 'user' | 'assistant'; content: Json[] }[] = [];
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    // Anthropic wants user and assistant turns to alternate: merge neighbours of one role.
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const m of Array.isArray(body.messages) ? (body.messages as Json[]) : []) {
    if (!m || typeof m !== 'object') continue;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(m));
        break;
      case 'tool':
      case 'function':
        push('user', [
          {
            type: 'tool_result',
            tool_use_id: String(m.tool_call_id ?? m.name ?? ''),
            content: textOf(m.content),
          },
        ]);
        break;
      default:
        push('user', contentBlocks(m.content));
    }
  }
  const out: Json = {
    model: upstreamModel,
    messages,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
  };
  if (system.length > 0) out.system = system.join('\n\n');
  if (typeof body.temperature === 'number') out.temperature = Math.min(1, Math.max(0, body.temperature));
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (typeof body.top_k === 'number') out.top_k = body.top_k;
  if (body.stop != null) out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  if (stream) out.stream = true;
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    out.tools = (body.tools as Json[])
      .filter((t) => t?.type === 'function' && t.function)
      .map((t) => ({
        name: t.function.name,
        ...(t.function.description ? { description: t.function.description } : {}),
        input_schema: t.function.parameters ?? { type: 'object', properties: {} },
      }));
    const choice = toolChoice(body.tool_choice, body.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  return out;
}

function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...noParallel };
  if (choice && typeof choice === 'object' && (choice as Json).function?.name) {
    return { type: 'tool', name: (choice as Json).function.name, ...noParallel };
  }
  if (choice === 'auto' || parallel === false) return { type: 'auto', ...noParallel };
  return undefined;
}

function assistantBlocks(m: Json): Json[] {
  const blocks: Json[] = [];
  const text = textOf(m.content);
  if (text) blocks.push({ type: 'text', text });
  if (Array.isArray(m.tool_calls)) {
    for (const call of m.tool_calls as Json[]) {
      blocks.push({
        type: 'tool_use',
        id: call.id,
        name: call.function?.name,
        input: parseArguments(call.function?.arguments),
      });
    }
  }
  return blocks;
}

function parseArguments(args: unknown): unknown {
  if (typeof args !== 'string') return args ?? {};
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

function contentBlocks(content: unknown): Json[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  const blocks: Json[] = [];
  for (const part of content as Json[]) {
    if (part?.type === 'text' && typeof part.text === 'string')
      blocks.push({ type: 'text', text: part.text });
    else if (part?.type === 'image_url') {
      const url: string =
        typeof part.image_url === 'string' ? part.image_url : String(part.image_url?.url ?? '');
      const data = /^data:([^;]+);base64,(.*)$/s.exec(url);
      blocks.push({
        type: 'image',
        source: data ? { type: 'base64', media_type: data[1], data: data[2] } : { type: 'url', url },
      });
    }
  }
  return blocks;
}

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Json[])
    .map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : ''))
    .filter(Boolean)
    .join('\n');
}
