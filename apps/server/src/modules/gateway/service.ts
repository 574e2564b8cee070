import type { Logger } from 'pino';
import type { GuardrailBook } from '../guardrails/index.ts';
import type { LimitService } from '../limits/index.ts';
import type { PriceBook, UsageWriter } from '../metering/index.ts';
import type { Tracing } from '../observability/index.ts';
import type { HealthBook, ProviderCache } from '../providers/index.ts';
import type { ModelCache } from '../registry/index.ts';
import { targetKey } from '../registry/index.ts';
import type { ResponseCache } from './cache/index.ts';
import { type BreakerOptions, createBreakerBook, DEFAULT_BREAKER } from './circuit-breaker.ts';
import type { GatewayContext } from './context.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { type BackoffOptions, DEFAULT_BACKOFF } from './retry.ts';
import { createTokenEstimator } from './token-estimate.ts';

export interface GatewayDeps {
  registry: { cache: ModelCache };
  providers: { cache: ProviderCache; health: HealthBook };
  usage: UsageWriter;
  prices: PriceBook;
  limits: LimitService;
  log: Logger;
  maxAttempts?: number;
  breaker?: Partial<BreakerOptions>;
  backoff?: Partial<BackoffOptions>;
  maxResponseBytes?: number;
  metrics?: GatewayMetrics;
  tracing?: Tracing | null;
  cache?: ResponseCache | null;
  guardrails?: GuardrailBook | null;
}

export interface TargetState {
  upstream_model: string;
  state: 'closed' | 'open' | 'half_open';
  consecutive_failures: number;
  error_rate: number;
  outstanding: number;
  opened_at: string | null;
}

/** The /v1 gateway: routing state (breakers, outstanding counts) over the registry and provider caches. */
export function createGateway(deps: GatewayDeps) {
  const breakers = createBreakerBook({ ...DEFAULT_BREAKER, ...deps.breaker });
  const context: GatewayContext = {
    models: deps.registry.cache,
    providers: deps.providers.cache,
    health: deps.providers.health,
    breakers,
    usage: deps.usage,
    prices: deps.prices,
    limits: deps.limits,
    tokens: createTokenEstimator(),
    log: deps.log,
    maxAttempts: deps.maxAttempts ?? 3,
    backoff: { ...DEFAULT_BACKOFF, ...deps.backoff },
    maxResponseBytes: deps.maxResponseBytes ?? 64 * 1024 * 1024,
    metrics: deps.metrics ?? null,
    tracing: deps.tracing ?? null,
    settling: new Set(),
    cache: deps.cache ?? null,
    guardrails: deps.guardrails ?? null,
  };

  return {
    context,

    /** Waits for usage events still being estimated, so that the writer's final flush has them. */
    async stop(): Promise<void> {
      while (context.settling.size > 0) await Promise.all([...context.settling]);
    },

    /** Breaker state of every target on a provider: those the registry routes to, and any used before. */
    targetStates(providerId: string): TargetState[] {
      const now = Date.now();
      const models = new Set([
        ...deps.registry.cache.upstreamModelsOf(providerId),
        ...breakers.forProvider(providerId).map((b) => b.upstreamModel),
      ]);
      return [...models].sort().map((upstreamModel) => {
        const b = breakers.peek(targetKey(providerId, upstreamModel));
        return {
          upstream_model: upstreamModel,
          state: b ? (b.state === 'open' && b.available(now) ? 'half_open' : b.state) : 'closed',
          consecutive_failures: b?.consecutiveFailures ?? 0,
          error_rate: b ? Math.round(b.errorRate(now) * 1000) / 1000 : 0,
          outstanding: b?.outstanding ?? 0,
          opened_at: b && b.state !== 'closed' ? new Date(b.openedAt).toISOString() : null,
        };
      });
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
