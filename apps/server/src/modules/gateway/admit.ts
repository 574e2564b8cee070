import { admitRequest, type LimitSubject } from '../limits/index.ts';
import { batchCostNanos, costNanos, mediaCostNanos } from '../metering/index.ts';
import type { CompiledModel } from '../registry/index.ts';
import type { GatewayContext } from './context.ts';
import type { RequestState } from './request-state.ts';

/** What a chat or completion may generate when neither the request nor the model says. */
const DEFAULT_MAX_TOKENS = 4096;
const NANOS = 1e9;
/** The model name limits and usage see when a request names no model the key may call. */
export const UNKNOWN_MODEL = 'unknown';

const positive = (v: unknown): number | null => (typeof v === 'number' && v > 0 ? v : null);

/** The most a request to `model` can use: prompt tokens (about 4 characters each) plus what it may generate. */
function demandOf(
  gw: GatewayContext,
  state: RequestState,
  model: CompiledModel,
  body: Record<string, unknown>,
) {
  const generates = state.endpoint === 'chat.completions' || state.endpoint === 'completions';
  const maxTokens = generates
    ? (positive(body.max_completion_tokens) ??
      positive(body.max_tokens) ??
      positive(model.defaultParams?.max_tokens) ??
      DEFAULT_MAX_TOKENS)
    : 0;
  const promptTokens = Math.ceil(gw.tokens.promptText(state.endpoint, body).length / 4);
  const price = gw.prices.priceAt(model.id, null, state.createdAt);
  const listCost = price
    ? costNanos(price, { promptTokens, completionTokens: maxTokens, cachedTokens: 0, reasoningTokens: 0 }) +
      (state.media ? mediaCostNanos(price, state.media.estimate) : 0)
    : 0;
  // a batch line is settled at the batch price: it reserves at that price too
  const cost = price ? (state.batchId ? batchCostNanos(price, listCost) : listCost) / NANOS : undefined;
  return { tokens: promptTokens + maxTokens, cost };
}

/**
 * Admission, before the model is even known to exist: reserves the most this request can use
 * (prompt tokens plus max_tokens or the model's default) and cost against the key's, project's and
 * org's limits before anything is dispatched. A request for a model the key cannot call (`model`
 * null) counts as one request of the model `unknown` and reserves no tokens, so a flood of made-up
 * names is held by the same RPM and concurrency limits as any other traffic. Throws the 429 when
 * refused; returns the x-ratelimit-* headers otherwise. A request no policy applies to costs one
 * map lookup.
 */
export function admit(
  gw: GatewayContext,
  state: RequestState,
  model: CompiledModel | null,
  body: Record<string, unknown>,
): Record<string, string> | null | Promise<Record<string, string> | null> {
  const subject: LimitSubject = {
    orgId: state.key.orgId,
    projectId: state.key.projectId,
    keyId: state.key.keyId,
    userId: state.key.ownerUserId ?? null,
    model: model ? model.name : UNKNOWN_MODEL,
  };
  if (gw.limits.resolvePolicies(subject).length === 0) return null;
  const demand = model ? demandOf(gw, state, model, body) : { tokens: 0 };
  // synchronous with in-process limits; a promise with Redis
  const admitted = admitRequest(gw.limits, subject, demand, state.batchId);
  if (admitted instanceof Promise) {
    return admitted.then(({ reservation, headers }) => {
      state.reservation = reservation;
      return headers;
    });
  }
  state.reservation = admitted.reservation;
  return admitted.headers;
}

/**
 * A fallback hop to `model`, against that model's own per-model limits (the key's, project's and
 * org's limits for all models were reserved by `admit` already). False when one of them refuses:
 * the hop is skipped, as if the fallback were not configured. Only runs on a fallback.
 */
export function admitFallback(
  gw: GatewayContext,
  state: RequestState,
  model: CompiledModel,
  body: Record<string, unknown>,
): boolean | Promise<boolean> {
  const subject: LimitSubject = {
    orgId: state.key.orgId,
    projectId: state.key.projectId,
    keyId: state.key.keyId,
    userId: state.key.ownerUserId ?? null,
    model: model.name,
  };
  const own = gw.limits.resolvePolicies(subject).filter((p) => p.model !== null);
  if (own.length === 0) return true;
  const result = gw.limits.engine.admit(subject, demandOf(gw, state, model, body), own);
  const hold = (r: Awaited<typeof result>) => {
    if (!r.ok) return false;
    if (state.hopReservations) state.hopReservations.push(r.reservation);
    else state.hopReservations = [r.reservation];
    return true;
  };
  return result instanceof Promise ? result.then(hold) : hold(result);
}
