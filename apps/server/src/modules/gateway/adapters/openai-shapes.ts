import type { Endpoint, UpstreamFailure, Usage } from './types.ts';

const num = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0;

/** OpenAI's `usage` object (also the rerank/embedding variants) as our Usage; null when absent. */
export function usageFromOpenAi(u: unknown): Usage | null {
  if (!u || typeof u !== 'object') return null;
  const o = u as Record<string, any>;
  let prompt = num(o.prompt_tokens ?? o.input_tokens);
  const completion = num(o.completion_tokens ?? o.output_tokens);
  if (prompt === 0 && completion === 0) prompt = num(o.total_tokens);
  return {
    promptTokens: prompt,
    completionTokens: completion,
    cachedTokens: num(o.prompt_tokens_details?.cached_tokens),
    reasoningTokens: num(o.completion_tokens_details?.reasoning_tokens),
    raw: u,
  };
}

/** The generated text of a completion or chat (chunk) object, for estimates. */
export function textOfChoices(parsed: unknown, endpoint: Endpoint): string {
  const choices = (parsed as { choices?: unknown })?.choices;
  if (!Array.isArray(choices)) return '';
  let text = '';
  for (const c of choices) {
    if (!c || typeof c !== 'object') continue;
    if (endpoint === 'completions') {
      if (typeof c.text === 'string') text += c.text;
      continue;
    }
    const m = c.delta ?? c.message;
    if (!m) continue;
    if (typeof m.content === 'string') text += m.content;
    if (typeof m.reasoning_content === 'string') text += m.reasoning_content;
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        const fn = call?.function;
        if (typeof fn?.name === 'string') text += fn.name;
        if (typeof fn?.arguments === 'string') text += fn.arguments;
      }
    }
  }
  return text;
}

const CONTEXT_LENGTH =
  /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|input is too long|exceeds the model/i;

/** Reads an error body of any OpenAI-style server (OpenAI, vLLM, TGI, llama.cpp, Ollama …). */
export function readOpenAiError(status: number, body: Buffer): UpstreamFailure {
  let message = '';
  let code: string | null = null;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, any>;
    const err = parsed.error ?? parsed;
    if (typeof err === 'string') message = err;
    else if (err && typeof err === 'object') {
      message = String(err.message ?? err.detail ?? err.msg ?? '');
      const c = err.code ?? err.type ?? parsed.error_type;
      if (typeof c === 'string') code = c;
    }
  } catch {
    message = body.toString('utf8', 0, Math.min(body.length, 500)).trim();
  }
  if (!message) message = `upstream answered ${status}`;
  const contextLength =
    (status === 400 || status === 413 || status === 422) &&
    (code === 'context_length_exceeded' || CONTEXT_LENGTH.test(message));
  return { status, message: message.slice(0, 1000), code, contextLength };
}

/** `"usage"` followed by an object (not null) somewhere in the text. */
export function hasUsageObject(s: string): boolean {
  let i = s.indexOf('"usage"');
  while (i !== -1) {
    let j = i + 7;
    while (isSpace(s.charCodeAt(j))) j++;
    if (s.charCodeAt(j) === 58) {
      j++;
      while (isSpace(s.charCodeAt(j))) j++;
      if (s.charCodeAt(j) === 123) return true;
    }
    i = s.indexOf('"usage"', i + 7);
  }
  return false;
}

/** The same test on bytes, without decoding them. */
export function bytesHaveUsageObject(b: Buffer): boolean {
  let i = b.indexOf('"usage"');
  while (i !== -1) {
    let j = i + 7;
    while (isSpace(b[j])) j++;
    if (b[j] === 58) {
      j++;
      while (isSpace(b[j])) j++;
      if (b[j] === 123) return true;
    }
    i = b.indexOf('"usage"', i + 7);
  }
  return false;
}

const isSpace = (c: number | undefined) => c === 32 || c === 9 || c === 10 || c === 13;
