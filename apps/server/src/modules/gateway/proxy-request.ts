import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { CompiledModel, FallbackClass } from '../registry/index.ts';
import { AbortSwitch } from './abort-switch.ts';
import type { Endpoint } from './adapters/types.ts';
import { admit, admitFallback } from './admit.ts';
import { attempt } from './attempt.ts';
import { chooseTarget, pickVersion, soonestRetryMs } from './choose-target.ts';
import type { GatewayContext } from './context.ts';
import { contextOverflow } from './context-check.ts';
import { clientGone, type Failure, failure, toAppError } from './failures.ts';
import { newRequestState, type RequestState } from './request-state.ts';
import { checkEndpoint, findUsableModel, modelNotFound, servesEndpoint } from './resolve-model.ts';
import { backoffMs, sleep } from './retry.ts';
import { startRequestTrace } from './trace-request.ts';
import { settleUsage } from './usage-record.ts';
import { validateBody } from './validate-body.ts';

const MAX_FALLBACK_HOPS = 4;

/**
 * The /v1 inference path: look the model up → validate → admit against limits (before a missing
 * model is refused, so limits hold floods of made-up names too) → route (retries across targets,
 * then fallback models by error class, each hop admitted against its own per-model limits) →
 * relay → one usage event, however the request ends.
 */
export async function proxyRequest(
  gw: GatewayContext,
  req: FastifyRequest,
  reply: FastifyReply,
  endpoint: Endpoint,
  /**
   * work maas runs on a key's behalf (runInternal): the batch a line belongs to; another API's
   * body (Anthropic Messages): `translate` turns it into the endpoint's (its errors are metered too)
   */
  internal?: { batchId?: string | undefined; translate?: (body: unknown) => Record<string, unknown> },
) {
  const state = newRequestState(req.id, req.principal as KeyPrincipal, endpoint, internal?.batchId ?? null);
  if (gw.tracing) startRequestTrace(gw.tracing, state, req);
  const raw = reply.raw;
  raw.on('close', () => {
    if (raw.writableFinished) return;
    state.clientGone = true;
    state.controller?.abort();
  });
  try {
    const named = (req.body as { model?: unknown } | null)?.model;
    if (typeof named === 'string') state.modelName = named;
    // looked up first (a map read) so that even a bad body is metered under the model it named
    const model = findUsableModel(gw.models, state.key, state.modelName);
    state.model = model;
    const body = validateBody(endpoint, internal?.translate ? internal.translate(req.body) : req.body);
    state.body = body;
    state.stream = body.stream === true && (endpoint === 'chat.completions' || endpoint === 'completions');
    state.clientWantsUsage =
      state.stream && (body.stream_options as { include_usage?: unknown } | null)?.include_usage === true;
    const admitting = state.trace?.step('admit');
    const admitted = admit(gw, state, model, body);
    const limitHeaders = admitted instanceof Promise ? await admitted : admitted;
    admitting?.end();
    if (limitHeaders) reply.headers(limitHeaders);
    if (!model) throw modelNotFound(state.modelName);
    checkEndpoint(model, state.modelName, endpoint);
    const guard = gw.guardrails?.forRequest(state, model.id);
    if (guard) await guard.checkInput(body);
    const caching = gw.cache?.settingsFor(model);
    if (caching && (await gw.cache!.serve(gw, state, caching, body, req, reply))) return reply;
    const routing = state.trace?.step('route');
    const failed = await route(gw, state, model, body, reply);
    routing?.end(failed?.code);
    if (failed) throw settleFailure(state, failed);
  } catch (err) {
    if (state.outcome === 'success') {
      state.outcome = 'rejected';
      state.httpStatus = err instanceof AppError ? err.status : 500;
      state.errorCode = err instanceof AppError ? err.code : 'internal_error';
    }
    if (!state.clientGone) {
      if (!state.committed) throw err;
    } else if (!state.committed) {
      // Nobody is listening: take the reply from Fastify and drop the connection.
      reply.hijack();
      raw.destroy();
    }
  } finally {
    settleUsage(gw, state);
  }
  return reply;
}

/**
 * What a caller is told when a model another org shared with it failed: the class and status only,
 * never the owner's upstream's own words (they may name its providers, hosts or addresses).
 */
const SHARED_FAILURE: Record<string, string> = {
  context_length_exceeded: "The request exceeds the model's context length.",
  rate_limit_exceeded: 'The model is rate limited upstream; try again shortly.',
  upstream_timeout: 'The upstream did not answer in time.',
  service_unavailable: 'The model is not available now; try again shortly.',
  validation_failed: 'The upstream refused the request.',
};

export function settleFailure(state: RequestState, f: Failure): AppError {
  if (state.model?.sharedWith && f.cls !== 'aborted')
    f = { ...f, message: SHARED_FAILURE[f.code] ?? 'The upstream failed.' };
  state.httpStatus = f.status;
  state.errorCode = f.cls === 'aborted' ? 'client_closed_request' : f.code;
  state.outcome =
    f.cls === 'aborted'
      ? 'client_abort'
      : f.code === 'upstream_timeout'
        ? 'timeout'
        : f.cls === 'context_length' && state.attempts === 0
          ? 'rejected' // refused before any upstream saw it
          : 'upstream_error';
  return toAppError(f);
}

/** Tries the model, then its fallbacks (and theirs) configured for the error class. */
export async function route(
  gw: GatewayContext,
  state: RequestState,
  first: CompiledModel,
  body: Record<string, unknown>,
  reply: FastifyReply,
): Promise<Failure | null> {
  let model = first;
  const tried = [first.id];
  const pending: { model: string; on: ReadonlySet<FallbackClass> }[] = [];
  for (let hop = 0; ; hop++) {
    const f = await tryModel(gw, state, model, body, reply);
    if (!f || f.cls === 'aborted' || f.cls === 'client' || hop >= MAX_FALLBACK_HOPS) return f;
    pending.push(...model.fallbacks);
    const next = await nextFallback(gw, state, pending, f.cls, tried, body);
    if (!next) return f;
    state.fallbackFrom ??= first.name;
    tried.push(next.id);
    model = next;
  }
}

/** The next fallback configured for the error class that the key may call and its model's own limits admit. */
async function nextFallback(
  gw: GatewayContext,
  state: RequestState,
  pending: { model: string; on: ReadonlySet<FallbackClass> }[],
  cls: FallbackClass,
  tried: string[],
  body: Record<string, unknown>,
): Promise<CompiledModel | null> {
  while (pending.length > 0) {
    const entry = pending.shift()!;
    if (!entry.on.has(cls)) continue;
    const m = findUsableModel(gw.models, state.key, entry.model);
    if (!m || tried.includes(m.id) || !servesEndpoint(m, state.endpoint)) continue;
    const admitted = admitFallback(gw, state, m, body);
    if (admitted instanceof Promise ? await admitted : admitted) return m;
  }
  return null;
}

/** Up to `maxAttempts` attempts on the model's targets; untried targets first, backoff on the same one. */
async function tryModel(
  gw: GatewayContext,
  state: RequestState,
  model: CompiledModel,
  body: Record<string, unknown>,
  reply: FastifyReply,
): Promise<Failure | null> {
  state.model = model;
  const version = pickVersion(model);
  state.version = version;
  if (!version)
    return failure(
      'unavailable',
      503,
      'service_unavailable',
      `The model \`${model.name}\` has no version with traffic.`,
    );
  const merged = model.defaultParams ? { ...model.defaultParams, ...body } : body;
  const overflow = await contextOverflow(gw.tokens, state.endpoint, merged, model);
  if (overflow) return overflow;
  let tried: Set<string> | null = null;
  let last: Failure | null = null;
  for (let i = 0; i < gw.maxAttempts; i++) {
    const now = Date.now();
    const pick =
      chooseTarget(version, gw, state.endpoint, tried, now) ??
      (tried ? chooseTarget(version, gw, state.endpoint, null, now) : null);
    if (!pick) break;
    if (last && state.target?.key === pick.target.key) {
      const wait = backoffMs(i, last.retryAfterMs, gw.backoff);
      if (wait === null) break;
      await pause(state, wait);
      if (state.clientGone) return clientGone();
    }
    state.target = pick.target;
    state.providerName = pick.provider.name;
    state.attempts += 1;
    const result = await attempt(gw, state, pick, merged, reply);
    if (result.kind === 'done') return null;
    last = result.failure;
    if (result.kind === 'fail') return last;
    tried ??= new Set();
    tried.add(pick.target.key);
  }
  if (last) return last;
  const retryIn = soonestRetryMs(version, gw.breakers, Date.now());
  return failure(
    'unavailable',
    503,
    'service_unavailable',
    `No upstream of the model \`${model.name}\` is available now; try again shortly.`,
    Math.max(retryIn, 1000),
  );
}

async function pause(state: RequestState, ms: number): Promise<void> {
  const controller = new AbortSwitch();
  state.controller = controller;
  const started = performance.now();
  await sleep(ms, controller);
  state.waitedMs += performance.now() - started;
  if (state.controller === controller) state.controller = null;
}
