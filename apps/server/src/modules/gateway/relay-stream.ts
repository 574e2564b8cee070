import { nativeMessages } from './adapters/anthropic/native.ts';
import type { AttemptResult, Relay } from './attempt.ts';
import { drained } from './drained.ts';
import { clientGone, failure } from './failures.ts';
import { completionAsEvents } from './json-as-stream.ts';
import { readAnswer } from './relay-json.ts';
import { responseHeaders } from './response-headers.ts';

const STREAM_ERROR = `\n\ndata: ${JSON.stringify({
  error: {
    message: 'The upstream stream ended unexpectedly.',
    type: 'api_error',
    param: null,
    code: 'upstream_error',
  },
})}\n\n`;

/**
 * A stream: wait for the first bytes (until then a failure can still be retried), then commit the
 * response and relay chunk by chunk with backpressure. The translator passes OpenAI-style bytes
 * through unchanged and watches them for usage.
 */
export async function relayStream(relay: Relay): Promise<AttemptResult> {
  const { state, pick, reply } = relay;
  const contentType = relay.res.headers['content-type'];
  if (typeof contentType === 'string' && contentType.includes('json')) return relayJsonAsStream(relay);
  const made = pick.provider.adapter.streamTranslator({
    endpoint: state.endpoint,
    model: state.modelName,
    requestId: state.requestId,
    clientWantsUsage: state.clientWantsUsage,
    hideUsageChunk: !state.clientWantsUsage,
    native: nativeMessages(state.body) !== null,
  });
  const translator = state.guard ? state.guard.wrapStream(made) : made;
  const chunks = relay.res.chunks();
  let first: Buffer | string | null = null;
  try {
    while (first === null) {
      const next = await chunks.next();
      if (next.done) {
        first = translator.end();
        if (first === null)
          return retryBadStream(relay, 'The upstream closed the stream before sending anything.');
        break;
      }
      first = translator.push(next.value);
    }
  } catch (err) {
    return relay.failed(err);
  }
  relay.stopTimer();
  if (state.clientGone) {
    relay.verdict = 'neutral';
    return { kind: 'fail', failure: clientGone() };
  }
  commit(relay, () => translator.completionText());
  const raw = reply.raw;
  raw.write(first);
  let broken = false;
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      const out = translator.push(next.value);
      if (out !== null && !raw.write(out)) await drained(raw);
      if (state.clientGone) break;
    }
    const tail = translator.end();
    if (tail !== null && !state.clientGone) raw.write(tail);
  } catch {
    broken = true;
  }
  state.usage = translator.usage;
  if (state.clientGone) {
    relay.verdict = 'neutral';
    state.outcome = 'client_abort';
    state.errorCode = 'client_closed_request';
  } else if (broken || !translator.complete) {
    relay.verdict = 'fail';
    state.outcome = 'upstream_error';
    state.errorCode = 'upstream_error';
    raw.write(STREAM_ERROR);
  } else {
    relay.verdict = 'ok';
  }
  raw.end();
  return { kind: 'done' };
}

/** A stream that failed before its first byte reached the client: another target may do better. */
function retryBadStream(relay: Relay, message: string): AttemptResult {
  relay.verdict = 'fail';
  return { kind: 'retry', failure: failure('unavailable', 502, 'upstream_error', message) };
}

/** The upstream ignored `stream: true` and sent one JSON answer: the client still gets a stream. */
async function relayJsonAsStream(relay: Relay): Promise<AttemptResult> {
  const { state, reply } = relay;
  const answer = await readAnswer(relay);
  if ('failed' in answer) return answer.failed;
  relay.stopTimer();
  const { translated } = answer;
  const events = completionAsEvents(
    translated.body,
    state.endpoint,
    translated.usage,
    state.clientWantsUsage,
  );
  if (events === null) {
    return retryBadStream(
      relay,
      'The upstream answered a stream request with a body that is not a completion.',
    );
  }
  if (state.clientGone) {
    relay.verdict = 'neutral';
    return { kind: 'fail', failure: clientGone() };
  }
  state.usage = translated.usage;
  commit(relay, () => translated.completionText);
  relay.verdict = 'ok';
  reply.raw.end(events);
  return { kind: 'done' };
}

function commit(relay: Relay, completionText: () => string): void {
  const { state, pick, reply } = relay;
  const upstreamMs = performance.now() - relay.started;
  reply.hijack();
  // assigned one by one: V8 copies these header objects an order of magnitude slower by spreading
  const headers = reply.getHeaders() as Record<string, string>;
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  headers.connection = 'keep-alive';
  const own = responseHeaders(state, pick, upstreamMs);
  for (const name in own) headers[name] = own[name]!;
  reply.raw.writeHead(200, headers);
  state.committed = true;
  state.billable = true;
  state.ttftMs = Math.round(performance.now() - state.startedAt);
  state.completionText = completionText;
}
