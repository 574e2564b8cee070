import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../http/app-error.ts';
import type { CompiledModel } from '../../registry/index.ts';
import { nativeMessages } from '../adapters/anthropic/native.ts';
import type { Endpoint, Usage } from '../adapters/types.ts';
import type { GatewayContext } from '../context.ts';
import { completionAsEvents } from '../json-as-stream.ts';
import type { RequestState } from '../request-state.ts';
import { cacheKey } from './cache-key.ts';
import type { CacheMetrics } from './cache-metrics.ts';
import type { CacheStore } from './cache-store.ts';
import { meterHit } from './cache-usage.ts';
import type { CacheSettings, CacheSettingsBook } from './settings.ts';

/** What a miss remembers to store the answer under. */
export interface CachePlan {
  key: string;
  ttlMs: number;
}

interface Entry {
  body: string;
  usage: Usage | null;
}

const CACHEABLE: ReadonlySet<Endpoint> = new Set(['chat.completions', 'completions', 'embeddings', 'rerank']);

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers?.[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** `x-maas-cache-ttl`: whole seconds, at most the model's TTL; 0 stores nothing. */
function requestTtlS(req: FastifyRequest, settings: CacheSettings): number {
  const raw = header(req, 'x-maas-cache-ttl');
  if (raw === undefined) return settings.ttlS;
  if (!/^\d{1,9}$/.test(raw.trim()))
    throw new AppError('validation_failed', 'x-maas-cache-ttl must be a whole number of seconds');
  return Math.min(Number(raw), settings.ttlS);
}

/**
 * The exact-match response cache. Answers are per org (the key's scope is the caller's org) unless
 * a platform admin opted the model into sharing; a stream request is answered from a cached answer
 * as SSE events. Request headers: `cache-control: no-cache` (do not look up), `no-store` (do not
 * store), `x-maas-cache-ttl` (seconds, up to the model's TTL). Answers carry `x-maas-cache: hit|miss`.
 */
export function createResponseCache(deps: {
  settings: CacheSettingsBook;
  store: CacheStore;
  metrics: CacheMetrics | null;
}) {
  const { store, metrics } = deps;

  return {
    kind: store.kind,
    /** the model's settings when its cache is on: one map lookup */
    settingsFor: (model: CompiledModel): CacheSettings | undefined => deps.settings.enabledFor(model.id),

    /** Answers from the cache (true), or plans to store the answer (false). */
    async serve(
      gw: GatewayContext,
      state: RequestState,
      settings: CacheSettings,
      body: Record<string, unknown>,
      req: FastifyRequest,
      reply: FastifyReply,
    ): Promise<boolean> {
      if (!CACHEABLE.has(state.endpoint) || nativeMessages(body) !== null) return false;
      const control = header(req, 'cache-control')?.toLowerCase() ?? '';
      const ttlS = requestTtlS(req, settings);
      const model = state.model!;
      const scope = settings.sharedAcrossOrgs ? '*' : state.key.orgId;
      const key = cacheKey(scope, model.id, state.endpoint, state.guard?.fingerprint ?? '', body);
      if (!control.includes('no-cache')) {
        const found = store.get(key);
        const hit = found instanceof Promise ? await found : found;
        if (hit && !state.clientGone) {
          metrics?.hit(model.name);
          sendHit(gw, state, settings, JSON.parse(hit.toString('utf8')) as Entry, reply);
          return true;
        }
      }
      metrics?.miss(model.name);
      reply.header('x-maas-cache', 'miss');
      if (!control.includes('no-store') && ttlS > 0) state.cache = { key, ttlMs: ttlS * 1000 };
      return false;
    },

    /** Keeps a good answer (after output guardrails) for the request's TTL. */
    store(state: RequestState, body: Buffer | string, usage: Usage | null): void {
      const plan = state.cache;
      if (!plan) return;
      const value = Buffer.from(
        JSON.stringify({
          body: typeof body === 'string' ? body : body.toString('utf8'),
          usage,
        } satisfies Entry),
      );
      store.set(plan.key, value, plan.ttlMs);
      metrics?.stored(state.model?.name ?? '', value.length);
    },
  };
}

export type ResponseCache = ReturnType<typeof createResponseCache>;

function sendHit(
  gw: GatewayContext,
  state: RequestState,
  settings: CacheSettings,
  entry: Entry,
  reply: FastifyReply,
) {
  const overhead = String(Math.round(performance.now() - state.startedAt));
  const events =
    state.stream || state.guard?.replayAsStream
      ? completionAsEvents(entry.body, state.endpoint, entry.usage, state.clientWantsUsage)
      : null;
  state.committed = true;
  state.ttftMs = Math.round(performance.now() - state.startedAt);
  if (events !== null) {
    reply.hijack();
    const headers = reply.getHeaders() as Record<string, string>;
    headers['content-type'] = 'text/event-stream; charset=utf-8';
    headers['cache-control'] = 'no-cache';
    headers['x-maas-cache'] = 'hit';
    headers['x-maas-target'] = 'cache';
    headers['x-maas-overhead-ms'] = overhead;
    reply.raw.writeHead(200, headers);
    reply.raw.end(events);
  } else {
    reply
      .code(200)
      .header('content-type', 'application/json')
      .header('x-maas-cache', 'hit')
      .header('x-maas-target', 'cache')
      .header('x-maas-overhead-ms', overhead)
      .send(entry.body);
  }
  meterHit(gw, state, entry.usage, settings);
}
