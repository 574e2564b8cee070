import { tokenizer } from '../../tokenizer.ts';
import type { Endpoint } from './adapters/types.ts';

type CountTokens = (text: string) => number;

/**
 * Token counts for upstreams that report no usage, with gpt-tokenizer (o200k). The tokenizer is
 * loaded on first use, not at start.
 */
export function createTokenEstimator() {
  let loading: Promise<CountTokens> | null = null;
  const load = () => {
    loading ??= Promise.resolve().then(() => {
      const { countTokens } = tokenizer();
      return (text: string) => (text ? countTokens(text) : 0);
    });
    return loading;
  };
  return {
    async count(text: string): Promise<number> {
      if (!text) return 0;
      return (await load())(text);
    },
    promptText,
  };
}

export type TokenEstimator = ReturnType<typeof createTokenEstimator>;

const textOf = (content: unknown): string => {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (typeof part === 'string') out += `${part}\n`;
    else if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
      out += `${(part as { text: string }).text}\n`;
    }
  }
  return out;
};

/** The text of a request's prompt, for an estimate. */
export function promptText(endpoint: Endpoint, body: Record<string, unknown>): string {
  switch (endpoint) {
    case 'chat.completions': {
      let out = '';
      for (const m of (body.messages as { role?: unknown; content?: unknown }[]) ?? []) {
        out += `${String(m?.role ?? '')}\n${textOf(m?.content)}\n`;
      }
      if (Array.isArray(body.tools)) out += JSON.stringify(body.tools);
      return out;
    }
    case 'completions':
      return Array.isArray(body.prompt) ? body.prompt.map(String).join('\n') : String(body.prompt ?? '');
    case 'embeddings':
      return Array.isArray(body.input)
        ? body.input.map((i) => (Array.isArray(i) ? i.join(' ') : String(i))).join('\n')
        : String(body.input ?? '');
    case 'rerank':
      return `${String(body.query ?? '')}\n${textOf(body.documents)}`;
    default:
      return ''; // images and audio are metered in their own units
  }
}
