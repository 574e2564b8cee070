import type { Endpoint, Usage } from './adapters/types.ts';

type Json = Record<string, unknown>;

const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;

/**
 * An upstream that answered a stream request with a whole JSON body: the same answer as the SSE
 * events an OpenAI stream carries (the content in one chunk per choice, then the finish reasons,
 * then usage when the client asked for it, then `[DONE]`), so the client's stream parser works.
 * Returns null when the body is not a completion it can render.
 */
export function completionAsEvents(
  body: Buffer | string,
  endpoint: Endpoint,
  usage: Usage | null,
  withUsage: boolean,
): string | null {
  let parsed: Json;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as Json;
  } catch {
    return null;
  }
  const choices = parsed?.choices;
  if (!Array.isArray(choices)) return null;
  const chat = endpoint === 'chat.completions';
  const head = {
    id: parsed.id,
    object: chat ? 'chat.completion.chunk' : 'text_completion',
    created: parsed.created,
    model: parsed.model,
    ...(parsed.system_fingerprint === undefined ? {} : { system_fingerprint: parsed.system_fingerprint }),
  };
  let out = '';
  for (const [i, raw] of choices.entries()) {
    const choice = (raw ?? {}) as Json;
    const index = typeof choice.index === 'number' ? choice.index : i;
    if (chat) {
      const message = (choice.message ?? {}) as Json;
      const { tool_calls: toolCalls, ...rest } = message;
      const delta: Json = { ...rest, role: message.role ?? 'assistant' };
      if (Array.isArray(toolCalls))
        delta.tool_calls = toolCalls.map((call, at) => ({ index: at, ...(call as Json) }));
      out += event({
        ...head,
        choices: [{ index, delta, logprobs: choice.logprobs ?? null, finish_reason: null }],
      });
    } else {
      out += event({
        ...head,
        choices: [{ index, text: choice.text ?? '', logprobs: choice.logprobs ?? null, finish_reason: null }],
      });
    }
  }
  for (const [i, raw] of choices.entries()) {
    const choice = (raw ?? {}) as Json;
    const index = typeof choice.index === 'number' ? choice.index : i;
    const finish = choice.finish_reason ?? 'stop';
    out += event({
      ...head,
      choices: [
        chat ? { index, delta: {}, finish_reason: finish } : { index, text: '', finish_reason: finish },
      ],
    });
  }
  if (withUsage && usage) out += event({ ...head, choices: [], usage: usage.raw ?? parsed.usage });
  return `${out}data: [DONE]\n\n`;
}
