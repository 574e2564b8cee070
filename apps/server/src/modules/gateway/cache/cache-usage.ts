import { costNanos } from '../../metering/index.ts';
import type { Usage } from '../adapters/types.ts';
import type { GatewayContext } from '../context.ts';
import { type RequestState, requestedModel } from '../request-state.ts';
import type { CacheSettings } from './settings.ts';

/**
 * The one usage event of an answer served from the cache: outcome `cache_hit`, no tokens (a hit
 * draws on request limits, RPM and concurrency, but not on token limits or quotas), the cached
 * answer's own usage kept in `raw_usage`, and a cost of `hit_price_percent` of what the answer
 * cost (0 by default) that counts against budgets. Written here, so the request is settled.
 */
export function meterHit(
  gw: GatewayContext,
  state: RequestState,
  usage: Usage | null,
  settings: CacheSettings,
): void {
  state.settled = true;
  state.outcome = 'cache_hit';
  const latencyMs = Math.round(performance.now() - state.startedAt);
  const model = state.model!;
  const price = gw.prices.priceAt(model.id, null, state.createdAt);
  const full =
    price && usage
      ? costNanos(price, {
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
          cachedTokens: usage.cachedTokens,
          reasoningTokens: usage.reasoningTokens,
        })
      : 0;
  const cost = Math.round((full * settings.hitPricePercent) / 100);
  if (state.reservation) void gw.limits.settleRequest(state.reservation, { tokens: 0, cost: cost / 1e9 });
  gw.metrics?.record(state, 0, 0, latencyMs);
  gw.usage.write({
    requestId: state.requestId,
    orgId: state.key.orgId,
    projectId: state.key.projectId,
    keyId: state.key.keyId,
    modelId: model.id,
    modelName: requestedModel(state) ?? model.name,
    versionId: null,
    providerId: null,
    upstreamModel: null,
    endpoint: state.endpoint,
    outcome: 'cache_hit',
    httpStatus: 200,
    errorCode: null,
    stream: state.stream,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    estimated: false,
    attempts: 0,
    fallbackFrom: null,
    latencyMs,
    ttftMs: state.ttftMs,
    costNanos: cost,
    currency: price?.currency ?? null,
    priceId: price?.id ?? null,
    rawUsage: usage?.raw ?? null,
    createdAt: state.createdAt,
  });
}
