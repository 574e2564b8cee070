import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { GuardrailBook } from '../guardrails/index.ts';
import type { LimitService } from '../limits/index.ts';
import type { PriceBook, UsageWriter } from '../metering/index.ts';
import type { Tracing } from '../observability/index.ts';
import type { HealthBook, ProviderCache } from '../providers/index.ts';
import type { ModelCache } from '../registry/index.ts';
import type { Endpoint } from './adapters/types.ts';
import type { ResponseCache } from './cache/index.ts';
import type { BreakerBook } from './circuit-breaker.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import type { BackoffOptions } from './retry.ts';
import type { TokenEstimator } from './token-estimate.ts';

/** What the request path uses: caches and counters in memory, nothing that queries the database. */
export interface GatewayContext {
  models: ModelCache;
  providers: ProviderCache;
  health: HealthBook;
  breakers: BreakerBook;
  usage: UsageWriter;
  /** prices in effect, for the cost of each request */
  prices: PriceBook;
  /** rate limits, quotas and budgets: admit before dispatch, settle after */
  limits: LimitService;
  tokens: TokenEstimator;
  log: Logger;
  /** attempts per model (the first try included) before falling back */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** largest non-stream upstream answer we read */
  maxResponseBytes: number;
  metrics: GatewayMetrics | null;
  /** OpenTelemetry spans, when tracing is on; null costs the hot path one check per step */
  tracing?: Tracing | null;
  /** usage events still being estimated (stop() waits for them) */
  settling: Set<Promise<void>>;
  /** the response cache; a model without it costs one map lookup */
  cache?: ResponseCache | null;
  /** guardrails attached to models and keys; none costs two map lookups */
  guardrails?: GuardrailBook | null;
  /** runs before a /v1 request is proxied (knowledge: retrieval for chat with a `knowledge` field) */
  beforeRequest?: ((req: FastifyRequest, reply: FastifyReply, endpoint: Endpoint) => Promise<void>) | null;
}
