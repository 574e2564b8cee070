import type { StaticChunking } from '../schema.ts';
import { splitText, type TextChunk } from './split.ts';

export interface DocumentChunk extends TextChunk {
  /** the headings the chunk sits under, outermost first (heading splitter) */
  headings: string[] | null;
  /** the parent's text, returned in the child's place by a search (parent-child splitter) */
  context: string | null;
}

/** a parent is this many children long unless the settings say otherwise */
export const PARENT_FACTOR = 4;

/** `# Title` … `###### Title` (closing hashes dropped), outside fenced code */
const ATX = /^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^(```|~~~)/;

interface Section {
  headings: string[];
  text: string;
}

/**
 * The text cut at its markdown headings (HTML's are written as markdown ones by the parser): each
 * section carries the path of headings above it, its own heading line included in its text.
 */
export function sectionsByHeading(text: string): Section[] {
  const sections: Section[] = [];
  const path: { level: number; title: string }[] = [];
  let lines: string[] = [];
  let fenced = false;
  const flush = () => {
    const body = lines.join('\n').trim();
    if (body) sections.push({ headings: path.map((h) => h.title), text: body });
    lines = [];
  };
  for (const line of text.split('\n')) {
    if (FENCE.test(line.trim())) fenced = !fenced;
    const m = fenced ? null : ATX.exec(line);
    if (m) {
      flush();
      const level = m[1]!.length;
      while (path.length > 0 && path[path.length - 1]!.level >= level) path.pop();
      path.push({ level, title: m[2]!.trim() });
    }
    lines.push(line);
  }
  flush();
  return sections;
}

/**
 * A document's chunks by the store's (or file's) settings: `recursive` is OpenAI's static strategy;
 * `heading` applies it within each heading's section (chunks never straddle two sections and keep
 * their heading path); `parent_child` cuts parents of `parent_chunk_size_tokens` and indexes their
 * children of `max_chunk_size_tokens`, each child answering with its parent's text.
 */
export function chunkDocument(text: string, settings: StaticChunking): DocumentChunk[] {
  const child = {
    max_chunk_size_tokens: settings.max_chunk_size_tokens,
    chunk_overlap_tokens: settings.chunk_overlap_tokens,
  };
  switch (settings.splitter ?? 'recursive') {
    case 'heading':
      return sectionsByHeading(text).flatMap((s) =>
        splitText(s.text, child).map((c) => ({
          ...c,
          headings: s.headings.length > 0 ? s.headings : null,
          context: null,
        })),
      );
    case 'parent_child': {
      const size = settings.parent_chunk_size_tokens ?? settings.max_chunk_size_tokens * PARENT_FACTOR;
      const parents = splitText(text, { max_chunk_size_tokens: size, chunk_overlap_tokens: 0 });
      return parents.flatMap((p) => {
        const children = splitText(p.text, child);
        return children.map((c) => ({ ...c, headings: null, context: children.length > 1 ? p.text : null }));
      });
    }
    default:
      return splitText(text, child).map((c) => ({ ...c, headings: null, context: null }));
  }
}

/** What is embedded and BM25-indexed for a chunk: its heading path leads when its text lacks it. */
export function indexedText(chunk: { text: string; headings: string[] | null }): string {
  const last = chunk.headings?.at(-1);
  if (!last || chunk.text.split('\n', 1)[0]!.includes(last)) return chunk.text;
  return `${chunk.headings!.join(' › ')}\n${chunk.text}`;
}
