import type { FastifyRequest } from 'fastify';
import type { AttemptSpan, Tracing } from '../observability/index.ts';
import type { Pick } from './choose-target.ts';
import type { Failure } from './failures.ts';
import { type RequestState, requestedModel } from './request-state.ts';

/**
 * What the gateway tells tracing (observability/tracing.ts), from the request's state. Only called
 * when tracing is on: with it off the gateway's hooks are `state.trace` null checks.
 */
export function startRequestTrace(tracing: Tracing, state: RequestState, req: FastifyRequest): void {
  state.trace = tracing.startRequest({
    endpoint: state.endpoint,
    // batch lines and async jobs run the same path without an HTTP request (run-internal.ts)
    route: req.routeOptions?.url,
    headers: req.headers,
    startedAt: state.startedAt,
  });
}

/** `gen_ai.provider.name` (semconv 1.37): the well-known names where they apply, else a kind of ours. */
export function genAiProviderName(pick: Pick): string {
  const { provider } = pick;
  if (provider.type === 'anthropic') return 'anthropic';
  if (provider.managed) return 'maas.fleet';
  return /^https:\/\/api\.openai\.com(:443)?$/.test(provider.origin) ? 'openai' : 'openai_compatible';
}

export function startAttemptSpan(state: RequestState, pick: Pick): AttemptSpan | null {
  if (!state.trace) return null;
  return state.trace.attempt({
    requestModel: state.model?.name ?? 'unknown',
    upstreamModel: pick.target.upstreamModel,
    providerName: genAiProviderName(pick),
    providerId: pick.provider.id,
    origin: pick.provider.origin,
    number: state.attempts,
    stream: state.stream,
  });
}

export function endAttemptSpan(
  span: AttemptSpan,
  state: RequestState,
  status: number | null,
  failure: Failure | null,
  committedBefore: boolean,
): void {
  const sentFirstToken = !committedBefore && state.committed && state.ttftMs !== null;
  span.end({
    status,
    // a stream that broke after its first byte is 'done' for routing but failed for the client
    error: failure ? failure.code : state.outcome === 'upstream_error' ? state.errorCode : null,
    firstTokenAt: sentFirstToken ? state.startedAt + state.ttftMs! : null,
  });
}

/** Ends the request's span with what it came to (the usage event's numbers). */
export function finishRequestTrace(
  state: RequestState,
  tokens: { prompt: number; completion: number; estimated: boolean },
  latencyMs: number,
): void {
  state.trace?.finish({
    requestModel: requestedModel(state),
    status: state.httpStatus,
    outcome: state.outcome,
    error: state.errorCode,
    attempts: state.attempts,
    inputTokens: tokens.prompt,
    outputTokens: tokens.completion,
    estimated: tokens.estimated,
    ttftMs: state.ttftMs,
    latencyMs,
    stream: state.stream,
  });
}
