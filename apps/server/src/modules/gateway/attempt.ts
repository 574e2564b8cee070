import type { FastifyReply } from 'fastify';
import { describeError } from '../providers/index.ts';
import { AbortSwitch } from './abort-switch.ts';
import type { Pick } from './choose-target.ts';
import type { GatewayContext } from './context.ts';
import { clientGone, connectionFailure, type Failure, timeoutFailure, upstreamFailure } from './failures.ts';
import { relayJson } from './relay-json.ts';
import { relayStream } from './relay-stream.ts';
import type { RequestState } from './request-state.ts';
import { isRetryableStatus, retryAfterMs } from './retry.ts';
import { endAttemptSpan, startAttemptSpan } from './trace-request.ts';
import { callUpstream, type UpstreamAnswer } from './upstream-call.ts';

/** An error answer's message is read from at most this many bytes; the rest is dropped. */
const ERROR_BODY_LIMIT = 64 * 1024;

export type AttemptResult = { kind: 'done' } | { kind: 'retry' | 'fail'; failure: Failure };

export type Verdict = 'ok' | 'fail' | 'neutral';

/** What a relay needs from the attempt that started it. */
export interface Relay {
  gw: GatewayContext;
  state: RequestState;
  pick: Pick;
  reply: FastifyReply;
  res: UpstreamAnswer;
  /** performance.now() when the request went to the upstream */
  started: number;
  /** what the breaker and health book learn from this attempt */
  verdict: Verdict;
  /** stops the first-byte timer (streams: from then on the idle timeout applies) */
  stopTimer(): void;
  /** classifies an error thrown while talking to the upstream */
  failed(err: unknown): AttemptResult;
}

/**
 * One call to one target: send, classify the answer, hand a good one to a relay. The attempt is
 * aborted by its timer, or at once when the client leaves. Retry decisions are the caller's.
 */
export async function attempt(
  gw: GatewayContext,
  state: RequestState,
  pick: Pick,
  body: Record<string, unknown>,
  reply: FastifyReply,
): Promise<AttemptResult> {
  const { provider, target, breaker } = pick;
  const includeUsage =
    state.stream && (state.endpoint === 'chat.completions' || state.endpoint === 'completions');
  const upstream = state.media
    ? await state.media.build(body, target.upstreamModel, provider.conn.basePath)
    : provider.adapter.buildRequest(state.endpoint, body, target.upstreamModel, provider.conn, {
        stream: state.stream,
        includeUsage,
      });
  const headers = upstream.contentType
    ? { ...provider.headers, 'content-type': upstream.contentType }
    : provider.headers;
  const controller = new AbortSwitch();
  state.controller = controller;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, provider.timeoutMs);
  const started = performance.now();
  breaker.acquire(Date.now());
  const span = state.trace ? startAttemptSpan(state, pick) : null;
  const committedBefore = state.committed;
  let result: AttemptResult | undefined;

  const relay: Relay = {
    gw,
    state,
    pick,
    reply,
    res: undefined as unknown as UpstreamAnswer,
    started,
    verdict: 'fail',
    stopTimer() {
      clearTimeout(timer);
      timer = undefined;
    },
    failed(err) {
      if (state.clientGone) {
        relay.verdict = 'neutral';
        return { kind: 'fail', failure: clientGone() };
      }
      relay.verdict = 'fail';
      return {
        kind: 'retry',
        failure: timedOut ? timeoutFailure(provider.timeoutMs) : connectionFailure(describeError(err)),
      };
    },
  };

  try {
    try {
      relay.res = await callUpstream(
        provider.pool,
        {
          method: 'POST',
          path: upstream.path,
          headers: span ? span.headers(headers) : headers,
          body: upstream.body,
          headersTimeout: provider.timeoutMs,
          bodyTimeout: provider.timeoutMs,
        },
        controller,
      );
    } catch (err) {
      result = relay.failed(err);
      return result;
    }
    const status = relay.res.statusCode;
    if (status >= 400) result = await rejected(relay, status);
    else if (state.media) result = await state.media.relay(relay);
    else result = state.stream ? await relayStream(relay) : await relayJson(relay);
    return result;
  } finally {
    if (span) {
      const failure = result && result.kind !== 'done' ? result.failure : null;
      endAttemptSpan(span, state, relay.res?.statusCode ?? null, failure, committedBefore);
    }
    clearTimeout(timer);
    relay.res?.dispose();
    if (state.controller === controller) state.controller = null;
    state.waitedMs += state.committed ? 0 : performance.now() - started;
    const now = Date.now();
    if (relay.verdict === 'ok') breaker.success(now);
    else if (relay.verdict === 'fail') breaker.failure(now);
    else breaker.neutral();
    if (relay.verdict !== 'neutral') gw.health.record(provider.id, relay.verdict === 'ok');
  }
}

/** An error status from the upstream: read its message and classify it. */
async function rejected(relay: Relay, status: number): Promise<AttemptResult> {
  const res = relay.res;
  const body = await res.whole(ERROR_BODY_LIMIT).catch(() => Buffer.alloc(0));
  if (relay.state.clientGone) return relay.failed(null);
  const info = relay.pick.provider.adapter.readError(status, body);
  const retryable = !info.contextLength && isRetryableStatus(status);
  // An upstream that refuses a bad request is healthy; one that fails or throttles is not.
  relay.verdict = retryable ? 'fail' : 'ok';
  const f = upstreamFailure(status, info.message, retryable, info.contextLength, retryAfterMs(res.headers));
  return { kind: retryable ? 'retry' : 'fail', failure: f };
}
