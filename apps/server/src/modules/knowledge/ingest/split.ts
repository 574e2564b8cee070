import { tokenizer } from '../../../tokenizer.ts';
import type { StaticChunking } from '../schema.ts';

export interface TextChunk {
  text: string;
  tokens: number;
}

/** Control characters out, line ends unified, runs of blank lines and trailing spaces collapsed. */
export function cleanText(raw: string): string {
  return (
    raw
      .replace(/\r\n?/g, '\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '')
      .replace(/[ \t\u00A0]+\n/g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

/**
 * Separators from coarse to fine; each keeps its delimiter on the left piece so that pieces join
 * back to the text. Sentences end at Chinese and Japanese full stops, question and exclamation marks
 * and semicolons (no space follows them) as well as at Western ones followed by a space.
 */
const SEPARATORS: RegExp[] = [
  /(?<=\n\n)/,
  /(?<=\n)/,
  /(?<=[。！？；…]["”’」』)）]?)|(?<=[.!?;]["”’)]?)(?=\s)/u,
  /(?<=[，、,：:])/u,
  /(?<=\s)/,
];

/** Pieces no longer than `max` tokens, split at the coarsest separator that gets them there. */
function pieces(text: string, max: number, level = 0): TextChunk[] {
  const tokens = tokenizer().countTokens(text);
  if (tokens <= max) return text ? [{ text, tokens }] : [];
  const sep = SEPARATORS[level];
  if (!sep) {
    // no separator left (a long run of characters without spaces): cut by tokens
    const ids = tokenizer().encode(text);
    const out: TextChunk[] = [];
    for (let i = 0; i < ids.length; i += max) {
      const part = ids.slice(i, i + max);
      out.push({ text: tokenizer().decode(part), tokens: part.length });
    }
    return out;
  }
  const parts = text.split(sep).filter((p) => p.length > 0);
  if (parts.length <= 1) return pieces(text, max, level + 1);
  return parts.flatMap((p) => pieces(p, max, level + 1));
}

/**
 * OpenAI's static strategy: chunks of at most `max_chunk_size_tokens`, each starting with up to
 * `chunk_overlap_tokens` of the previous chunk's end, cut at paragraph, line, sentence, clause and
 * word boundaries in that order of preference.
 */
export function splitText(text: string, settings: StaticChunking): TextChunk[] {
  const max = settings.max_chunk_size_tokens;
  const overlap = Math.min(settings.chunk_overlap_tokens, Math.floor(max / 2));
  const units = pieces(text, overlap > 0 ? Math.max(1, Math.min(max - overlap, overlap)) : max);
  const chunks: TextChunk[] = [];
  let current: TextChunk[] = [];
  let size = 0;
  let fresh = 0; // units in `current` not carried over from the previous chunk
  const flush = () => {
    const body = current
      .map((u) => u.text)
      .join('')
      .trim();
    if (body) chunks.push({ text: body, tokens: tokenizer().countTokens(body) });
  };
  for (const unit of units) {
    if (size + unit.tokens > max && fresh > 0) {
      flush();
      // the overlap: the last units of this chunk, up to `overlap` tokens
      const carried: TextChunk[] = [];
      let carriedSize = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const u = current[i]!;
        if (carriedSize + u.tokens > overlap) break;
        carried.unshift(u);
        carriedSize += u.tokens;
      }
      current = carried;
      size = carriedSize;
      fresh = 0;
    }
    current.push(unit);
    size += unit.tokens;
    fresh++;
  }
  if (fresh > 0) flush();
  return chunks;
}
