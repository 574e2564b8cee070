import { createParser } from 'eventsource-parser';
import { hasUsageObject, textOfChoices, usageFromOpenAi } from '../openai-shapes.ts';
import type { Endpoint, Usage } from '../types.ts';

const MAX_EVENT_CHARS = 4 * 1024 * 1024;

export interface StreamUsage {
  feed(chunk: Buffer): void;
  readonly usage: Usage | null;
  /** `data: [DONE]` was seen */
  readonly done: boolean;
  /** the text generated so far (parsed lazily, only when an estimate is needed) */
  text(): string;
}

/**
 * Watches an OpenAI-style SSE stream for its usage without touching the bytes: the parser sees
 * every event, only events that carry a usage object are parsed as JSON. The data of the other
 * events is kept by reference so that an estimate can be made when the upstream reports no usage.
 */
export function createStreamUsage(endpoint: Endpoint): StreamUsage {
  const decoder = new TextDecoder();
  const events: string[] = [];
  let usage: Usage | null = null;
  let done = false;
  let broken = false;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent(event) {
      const data = event.data;
      if (data === '[DONE]') {
        done = true;
        return;
      }
      if (hasUsageObject(data)) {
        try {
          const found = usageFromOpenAi((JSON.parse(data) as { usage?: unknown }).usage);
          if (found) usage = found;
        } catch {
          // a malformed event: the bytes still go to the client unchanged
        }
      }
      events.push(data);
    },
  });
  return {
    feed(chunk) {
      if (broken) return;
      try {
        parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        broken = true; // over the buffer limit: stop watching, keep streaming
      }
    },
    get usage() {
      return usage;
    },
    get done() {
      return done;
    },
    text() {
      let text = '';
      for (const data of events) {
        try {
          text += textOfChoices(JSON.parse(data), endpoint);
        } catch {}
      }
      return text;
    },
  };
}
