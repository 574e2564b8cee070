import { createHash } from 'node:crypto';

/** Deterministic content of the fake upstream: echo-based text, word-count tokens, hashed vectors. */

/** the plain text of a chat message content: a string or an array of parts */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'string' ? part : typeof part?.text === 'string' ? part.text : ''))
      .join(' ');
  }
  return '';
}

/** a rough, stable token count: whitespace-separated words, at least 1 */
export function countTokens(text: string): number {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return Math.max(1, words);
}

/** the text of the last message whose role is `user` */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return textOf(messages[i].content);
  }
  return '';
}

export function promptTokensOfMessages(messages: unknown, system?: unknown): number {
  const parts = Array.isArray(messages) ? messages.map((m) => textOf(m?.content)) : [];
  if (system !== undefined) parts.push(textOf(system));
  return countTokens(parts.join(' '));
}

/** the completion length: `chunks`, capped by max_tokens / max_completion_tokens when given */
export function completionLength(body: Record<string, any>, chunks: number): number {
  const cap = body.max_completion_tokens ?? body.max_tokens;
  return typeof cap === 'number' && cap > 0 ? Math.min(chunks, cap) : chunks;
}

/** `n` tokens echoing the prompt's words in a cycle; token i ends with a space except the last */
export function echoTokens(prompt: string, n: number): string[] {
  const words = prompt.trim().split(/\s+/).filter(Boolean);
  const source = words.length > 0 ? words : ['ok'];
  const tokens: string[] = [];
  for (let i = 0; i < n; i++)
    tokens.push(i < n - 1 ? `${source[i % source.length]} ` : source[i % source.length]!);
  return tokens;
}

/** a unit vector of `dimensions` floats derived from the input's SHA-256 */
export function embeddingOf(input: string, dimensions: number): number[] {
  const values: number[] = [];
  let block = 0;
  while (values.length < dimensions) {
    const digest = createHash('sha256').update(`${block}:${input}`).digest();
    for (let i = 0; i + 4 <= digest.length && values.length < dimensions; i += 4) {
      values.push(digest.readUInt32LE(i) / 0xffffffff - 0.5);
    }
    block++;
  }
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0)) || 1;
  // round through float32 so the float and base64 encodings carry the same numbers
  return values.map((v) => Math.fround(v / norm));
}

/** little-endian float32 bytes, base64: OpenAI's `encoding_format: "base64"` */
export function base64OfFloats(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buffer.writeFloatLE(values[i]!, i * 4);
  return buffer.toString('base64');
}

/** a relevance score in [0, 1): share of query words found in the document, plus a stable tiebreak */
export function relevanceOf(query: string, document: string): number {
  const queryWords = new Set(query.toLowerCase().split(/\W+/).filter(Boolean));
  const docWords = new Set(document.toLowerCase().split(/\W+/).filter(Boolean));
  let shared = 0;
  for (const word of queryWords) if (docWords.has(word)) shared++;
  const overlap = queryWords.size > 0 ? shared / queryWords.size : 0;
  const tiebreak = createHash('sha256').update(`${query}\n${document}`).digest().readUInt16LE(0) / 0x10000;
  return Math.round((overlap * 0.9 + tiebreak * 0.09) * 1e6) / 1e6;
}
