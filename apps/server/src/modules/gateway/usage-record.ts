import { batchCostNanos, costNanos, mediaCostNanos } from '../metering/index.ts';
import { UNKNOWN_MODEL } from './admit.ts';
import type { GatewayContext } from './context.ts';
import { type RequestState, requestedModel } from './request-state.ts';
import { finishRequestTrace } from './trace-request.ts';

interface Tokens {
  prompt: number;
  completion: number;
  cached: number;
  reasoning: number;
  estimated: boolean;
}

const NONE: Tokens = { prompt: 0, completion: 0, cached: 0, reasoning: 0, estimated: false };

/**
 * Settles a request into exactly one usage event (guarded by `settled`): tokens as the upstream
 * reported them, written at once; or, when it reported none although it worked on the request,
 * counted with the tokenizer and flagged estimated (tracked in `gw.settling` so stop() can wait).
 */
export function settleUsage(gw: GatewayContext, state: RequestState, deferTrace = false): void {
  if (state.settled) {
    const finish = state.finishTrace;
    state.finishTrace = null;
    finish?.();
    return;
  }
  state.settled = true;
  const latencyMs = Math.round(performance.now() - state.startedAt);
  const settling = state.trace?.step('usage');
  const u = state.usage;
  if (u) {
    write(
      gw,
      state,
      latencyMs,
      {
        prompt: u.promptTokens,
        completion: u.completionTokens,
        cached: u.cachedTokens,
        reasoning: u.reasoningTokens,
        estimated: false,
      },
      settling,
      deferTrace,
    );
    return;
  }
  if (!state.billable || !state.body || state.media) {
    write(gw, state, latencyMs, NONE, settling);
    return;
  }
  const pending = estimate(gw, state)
    .catch((err: unknown) => {
      gw.log.warn({ err, request_id: state.requestId }, 'token estimate failed');
      return { ...NONE, estimated: true };
    })
    .then((tokens) => {
      write(gw, state, latencyMs, tokens, settling);
      gw.settling.delete(pending);
    });
  gw.settling.add(pending);
}

async function estimate(gw: GatewayContext, state: RequestState): Promise<Tokens> {
  const prompt = await gw.tokens.count(gw.tokens.promptText(state.endpoint, state.body!));
  const text = typeof state.completionText === 'function' ? state.completionText() : state.completionText;
  return { prompt, completion: await gw.tokens.count(text), cached: 0, reasoning: 0, estimated: true };
}

/** The usage event, priced at the price in effect when the request arrived; settles its reservation. */
function write(
  gw: GatewayContext,
  state: RequestState,
  latencyMs: number,
  t: Tokens,
  settling?: { end(): void },
  deferTrace = false,
): void {
  const target = state.target;
  const price = state.model
    ? gw.prices.priceAt(state.model.id, state.version?.id ?? null, state.createdAt)
    : null;
  const units = state.media?.actual ?? null;
  const listCost = price
    ? costNanos(price, {
        promptTokens: t.prompt,
        completionTokens: t.completion,
        cachedTokens: t.cached,
        reasoningTokens: t.reasoning,
      }) + (units ? mediaCostNanos(price, units) : 0)
    : 0;
  // a batch line costs the batch price, in the usage row and against budgets alike
  const cost =
    price && state.batchId && price.batchDiscountPercent > 0 ? batchCostNanos(price, listCost) : listCost;
  if (state.reservation)
    void gw.limits.settleRequest(state.reservation, { tokens: t.prompt + t.completion, cost: cost / 1e9 });
  if (state.hopReservations)
    for (const r of state.hopReservations)
      void gw.limits.settleRequest(r, { tokens: t.prompt + t.completion, cost: cost / 1e9 });
  gw.metrics?.record(state, t.prompt, t.completion, latencyMs);
  gw.usage.write({
    requestId: state.requestId,
    orgId: state.key.orgId,
    projectId: state.key.projectId,
    keyId: state.key.keyId,
    modelId: state.model?.id ?? null,
    // the model asked for under its own name (an alias counts as the model; limits, quotas seeded
    // from the rollups and bills all speak of models by name); `unknown` when the key may call no
    // model of the name it sent (never the caller's string: it is not a model of ours)
    modelName: requestedModel(state) ?? UNKNOWN_MODEL,
    versionId: state.version?.id ?? null,
    providerId: target?.providerId ?? null,
    upstreamModel: target?.upstreamModel ?? null,
    endpoint: state.endpoint,
    outcome: state.outcome,
    httpStatus: state.httpStatus,
    errorCode: state.errorCode,
    stream: state.stream,
    promptTokens: t.prompt,
    completionTokens: t.completion,
    cachedTokens: t.cached,
    reasoningTokens: t.reasoning,
    estimated: t.estimated,
    images: units?.images ?? 0,
    imageSize: units?.imageSize ?? null,
    audioMs: units?.audioMs ?? 0,
    characters: units?.characters ?? 0,
    attempts: state.attempts,
    fallbackFrom: state.fallbackFrom,
    latencyMs,
    ttftMs: state.ttftMs,
    costNanos: cost,
    currency: price?.currency ?? null,
    priceId: price?.id ?? null,
    rawUsage: state.usage?.raw ?? null,
    createdAt: state.createdAt,
  });
  if (state.trace) {
    settling?.end();
    const finish = () => finishRequestTrace(state, t, Math.round(performance.now() - state.startedAt));
    if (deferTrace) state.finishTrace = finish;
    else finishRequestTrace(state, t, latencyMs);
  }
}
