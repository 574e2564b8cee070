import type { TranslatedResponse } from '../adapters/types.ts';
import type { AttemptResult, Relay } from '../attempt.ts';
import { completionAsEvents } from '../json-as-stream.ts';
import { responseHeaders } from '../response-headers.ts';

/**
 * A whole answer of a request that has output guardrails or a cache plan: the guardrails check it
 * (masking, or throwing the 400 when one blocks), the cache keeps the checked answer, and the
 * client gets it as JSON, or as SSE events when it asked for a stream that a moderation model had
 * to see whole.
 */
export async function finishAnswer(
  relay: Relay,
  translated: TranslatedResponse,
  upstreamMs: number,
): Promise<AttemptResult> {
  const { gw, state, pick, reply } = relay;
  const body = state.guard ? await state.guard.checkAnswer(translated.body) : translated.body;
  if (state.cache) gw.cache?.store(state, body, translated.usage);
  state.committed = true;
  const headers = responseHeaders(state, pick, upstreamMs);
  const events = state.guard?.replayAsStream
    ? completionAsEvents(body, state.endpoint, translated.usage, state.clientWantsUsage)
    : null;
  if (events === null) {
    reply.code(200).headers(headers).header('content-type', 'application/json').send(body);
    return { kind: 'done' };
  }
  reply.hijack();
  const all = reply.getHeaders() as Record<string, string>;
  all['content-type'] = 'text/event-stream; charset=utf-8';
  all['cache-control'] = 'no-cache';
  for (const name in headers) all[name] = headers[name]!;
  reply.raw.writeHead(200, all);
  reply.raw.end(events);
  return { kind: 'done' };
}
