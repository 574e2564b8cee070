import { admitRequest } from '../limits/index.ts';
import { costNanos } from '../metering/index.ts';
import type { CompiledModel } from '../registry/index.ts';
import type { GatewayContext } from './context.ts';
import type { RequestState } from './request-state.ts';

/** What a chat or completion may generate when neither the request nor the model says. */
const DEFAULT_MAX_TOKENS = 4096;
const NANOS = 1e9;

const positive = (v: unknown): number | null => (typeof v === 'number' && v > 0 ? v : null);

/**
 * Admission: reserves the most this request can use (prompt tokens, roughly 4 characters each, plus
 * max_tokens or the model's default) and cost against the key's, project's and org's limits before
 * anything is dispatched. Throws the 429 when refused; returns the x-ratelimit-* headers otherwise.
 * A request no policy applies to costs one map lookup.
 */
export function admit(
  gw: GatewayContext,
  state: RequestState,
  model: CompiledModel,
  body: Record<string, unknown>,
): Record<string, string> | null | Promise<Record<string, string> | null> {
  const subject = {
    orgId: state.key.orgId,
    projectId: state.key.projectId,
    keyId: state.key.keyId,
    model: model.name,
  };
  if (gw.limits.resolvePolicies(subject).length === 0) return null;
  const generates = state.endpoint === 'chat.completions' || state.endpoint === 'completions';
  const maxTokens = generates
    ? (positive(body.max_completion_tokens) ??
      positive(body.max_tokens) ??
      positive(model.defaultParams?.max_tokens) ??
      DEFAULT_MAX_TOKENS)
    : 0;
  const promptTokens = Math.ceil(gw.tokens.promptText(state.endpoint, body).length / 4);
  const price = gw.prices.priceAt(model.id, null, state.createdAt);
  const cost = price
    ? costNanos(price, { promptTokens, completionTokens: maxTokens, cachedTokens: 0, reasoningTokens: 0 }) /
      NANOS
    : undefined;
  // synchronous with in-process limits; a promise with Redis
  const admitted = admitRequest(gw.limits, subject, { tokens: promptTokens + maxTokens, cost });
  if (admitted instanceof Promise) {
    return admitted.then(({ reservation, headers }) => {
      state.reservation = reservation;
      return headers;
    });
  }
  state.reservation = admitted.reservation;
  return admitted.headers;
}
