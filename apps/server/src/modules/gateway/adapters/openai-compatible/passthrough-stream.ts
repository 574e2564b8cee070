import { bytesHaveUsageObject, hasUsageObject } from '../openai-shapes.ts';
import type { StreamOptions, StreamTranslator } from '../types.ts';
import { createStreamUsage } from './stream-usage.ts';

/**
 * OpenAI-style upstream streams go to the client byte for byte. Only when we asked for usage on the
 * client's behalf are the bytes cut at event boundaries, so that the usage-only chunk can be left out.
 */
export function createPassthroughStream(opts: StreamOptions): StreamTranslator {
  const watcher = createStreamUsage(opts.endpoint);
  let tail: Buffer | null = null;

  const filter = (block: Buffer): Buffer | string =>
    bytesHaveUsageObject(block) ? dropUsageEvents(block) : block;

  return {
    push(chunk) {
      watcher.feed(chunk);
      if (!opts.hideUsageChunk) return chunk;
      const buf = tail ? Buffer.concat([tail, chunk]) : chunk;
      const end = lastEventEnd(buf);
      if (end === -1) {
        tail = buf;
        return null;
      }
      tail = end < buf.length ? buf.subarray(end) : null;
      return filter(end < buf.length ? buf.subarray(0, end) : buf);
    },
    end() {
      const rest = tail;
      tail = null;
      return rest ? filter(rest) : null;
    },
    get usage() {
      return watcher.usage;
    },
    get complete() {
      return watcher.done;
    },
    completionText: () => watcher.text(),
  };
}

/** Index just past the last blank line (`\n\n`, `\r\n\r\n` or `\r\r`), or -1. */
export function lastEventEnd(buf: Buffer): number {
  const lf = buf.lastIndexOf('\n\n');
  const crlf = buf.lastIndexOf('\r\n\r\n');
  const cr = buf.lastIndexOf('\r\r');
  return Math.max(lf === -1 ? -1 : lf + 2, crlf === -1 ? -1 : crlf + 4, cr === -1 ? -1 : cr + 2);
}

/** Removes events whose data is a usage-only chunk (`choices: []` and a usage object). */
export function dropUsageEvents(block: Buffer): string {
  const parts = block.toString('utf8').split(/(\r\n\r\n|\n\n|\r\r)/);
  let out = '';
  for (let i = 0; i < parts.length; i += 2) {
    const event = parts[i]!;
    const sep = parts[i + 1] ?? '';
    if (isUsageOnly(event)) continue;
    out += event + sep;
  }
  return out;
}

function isUsageOnly(event: string): boolean {
  if (!hasUsageObject(event)) return false;
  const data = event
    .split(/\r\n|\n|\r/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
  try {
    const parsed = JSON.parse(data) as { choices?: unknown };
    return Array.isArray(parsed.choices) && parsed.choices.length === 0;
  } catch {
    return false;
  }
}
