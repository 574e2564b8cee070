import { createParser } from 'eventsource-parser';
import { hasUsageObject, textOfChoices, usageFromOpenAi } from '../openai-shapes.ts';
import type { Endpoint, Usage } from '../types.ts';

export interface StreamUsage {
  feed(chunk: Buffer): void;
  /** the last usage object the stream carried */
  readonly usage: Usage | null;
  /** `data: [DONE]` was seen */
  readonly done: boolean;
  /** the text generated so far (parsed only when an estimate is needed) */
  text(): string;
}

/** The data of each event in `text`, in order (an unterminated last event counts). */
function eventData(text: string): string[] {
  const out: string[] = [];
  const parser = createParser({ onEvent: (event) => out.push(event.data) });
  parser.feed(text);
  parser.feed('\n\n');
  return out;
}

/** Index just past the last blank line before `at` (`\n\n`, `\r\n\r\n` or `\r\r`), or 0. */
function eventStart(buf: Buffer, at: number): number {
  const lf = buf.lastIndexOf('\n\n', at);
  const crlf = buf.lastIndexOf('\r\n\r\n', at);
  const cr = buf.lastIndexOf('\r\r', at);
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4, cr === -1 ? 0 : cr + 2);
}

/**
 * The data of the last event, searching from the end, that `matches`. Each earlier occurrence of
 * `needle` marks where to look next; every byte is parsed at most once, however many occurrences
 * do not match (a provider may send `"usage": null` in every chunk).
 */
function lastEvent<T>(buf: Buffer, needle: string, matches: (data: string) => T | null): T | null {
  let end = buf.length;
  let at = buf.lastIndexOf(needle, end - 1);
  while (at !== -1) {
    const start = eventStart(buf, at);
    const events = eventData(buf.toString('utf8', start, end));
    for (let i = events.length - 1; i >= 0; i--) {
      const found = matches(events[i]!);
      if (found !== null) return found;
    }
    end = start;
    at = start === 0 ? -1 : buf.lastIndexOf(needle, start - 1);
  }
  return null;
}

function usageOf(data: string): Usage | null {
  if (!hasUsageObject(data)) return null;
  try {
    return usageFromOpenAi((JSON.parse(data) as { usage?: unknown }).usage);
  } catch {
    return null; // a malformed event: the bytes still went to the client unchanged
  }
}

/**
 * Watches an OpenAI-style SSE stream for its usage without touching the bytes. Nothing is parsed
 * while the stream flows: the chunks are kept by reference, and once the usage is asked for (at the
 * stream's end) only the events around the last `"usage"` and `[DONE]` are parsed, found from the
 * end. The whole stream is parsed only when an estimate needs its text.
 */
export function createStreamUsage(endpoint: Endpoint): StreamUsage {
  const chunks: Buffer[] = [];
  let size = 0;
  /** what the bytes so far say, read at the size they had then */
  let read: { size: number; usage: Usage | null; done: boolean } | null = null;

  const bytes = (): Buffer => {
    if (chunks.length > 1) chunks.splice(0, chunks.length, Buffer.concat(chunks, size));
    return chunks[0] ?? Buffer.alloc(0);
  };
  const current = () => {
    if (read?.size !== size) {
      const buf = bytes();
      read = {
        size,
        usage: lastEvent(buf, '"usage"', usageOf),
        done: lastEvent(buf, '[DONE]', (data) => (data === '[DONE]' ? true : null)) ?? false,
      };
    }
    return read;
  };

  return {
    feed(chunk) {
      chunks.push(chunk);
      size += chunk.length;
    },
    get usage() {
      return current().usage;
    },
    get done() {
      return current().done;
    },
    text() {
      let text = '';
      for (const data of eventData(bytes().toString('utf8'))) {
        if (data === '[DONE]') continue;
        try {
          text += textOfChoices(JSON.parse(data), endpoint);
        } catch {}
      }
      return text;
    },
  };
}
