import { nativeMessages } from './adapters/anthropic/native.ts';
import type { TranslatedResponse } from './adapters/types.ts';
import type { AttemptResult, Relay } from './attempt.ts';
import { finishAnswer } from './cache/index.ts';
import { clientGone } from './failures.ts';
import { responseHeaders } from './response-headers.ts';
import { settleUsage } from './usage-record.ts';

/** Reads a whole answer and hands it to the adapter; when reading fails, the attempt's result instead. */
export async function readAnswer(
  relay: Relay,
): Promise<{ translated: TranslatedResponse; upstreamMs: number } | { failed: AttemptResult }> {
  const { state, pick } = relay;
  let buf: Buffer;
  try {
    buf = await relay.res.whole(relay.gw.maxResponseBytes);
  } catch (err) {
    return { failed: relay.failed(err) };
  }
  const upstreamMs = performance.now() - relay.started;
  const body = state.body!;
  const translated = pick.provider.adapter.readResponse(buf, {
    endpoint: state.endpoint,
    encodingFormat: typeof body.encoding_format === 'string' ? body.encoding_format : undefined,
    model: state.modelName,
    requestId: state.requestId,
    native: nativeMessages(body) !== null,
  });
  return { translated, upstreamMs };
}

/** A non-stream answer: read it, take its usage, translate if needed, send it. */
export async function relayJson(relay: Relay): Promise<AttemptResult> {
  const { state, pick, reply } = relay;
  const answer = await readAnswer(relay);
  if ('failed' in answer) return answer.failed;
  const { translated, upstreamMs } = answer;
  relay.verdict = 'ok';
  state.billable = true;
  state.usage = translated.usage;
  state.completionText = translated.completionText;
  state.ttftMs = Math.round(performance.now() - state.startedAt);
  if (state.clientGone) return { kind: 'fail', failure: clientGone() };
  if (state.guard !== null || state.cache !== null) return finishAnswer(relay, translated, upstreamMs);
  state.committed = true;
  // metered (and journaled) before the answer leaves: a kill -9 the moment the client has it loses nothing
  settleUsage(relay.gw, state, true);
  reply
    .code(200)
    .headers(responseHeaders(state, pick, upstreamMs))
    .header('content-type', 'application/json')
    .send(translated.body);
  return { kind: 'done' };
}
