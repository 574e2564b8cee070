import { Gauge, type Registry } from 'prom-client';
import { type CounterChild, type HistogramChild, HotCounter, HotHistogram } from '../observability/index.ts';
import { type RequestState, requestedModel } from './request-state.ts';

export interface GatewayMetrics {
  /** One finished /v1 request, as metered. */
  record(state: RequestState, promptTokens: number, completionTokens: number, latencyMs: number): void;
}

interface Children {
  requests: CounterChild;
  prompt: CounterChild;
  completion: CounterChild;
  duration: HistogramChild;
  ttft: HistogramChild;
}

/** Label sets seen so far are few (models × providers × outcomes); a bound keeps a bug from growing them forever. */
const MAX_LABEL_SETS = 10_000;

/**
 * Prometheus metrics of the gateway, by model (the model asked for, `unknown` when none matched),
 * provider (the one that served it, `none` when none did), outcome and status:
 * `maas_gateway_requests_total`, `maas_gateway_tokens_total`, `maas_gateway_request_duration_seconds`,
 * `maas_gateway_time_to_first_token_seconds`, and `maas_usage_events_pending` (events not yet in
 * the database: buffered, or spooled while it is unreachable).
 * The children of each label set are kept: `labels()` joins its arguments on every call. They are
 * hot-path metrics (hot-metrics.ts): a request records into plain numbers, read at scrape time.
 */
export function createGatewayMetrics(registry: Registry, usagePending: () => number): GatewayMetrics {
  const registers = [registry];
  const requests = new HotCounter({
    name: 'maas_gateway_requests_total',
    help: 'Requests on /v1 by model asked for, provider that served, outcome and HTTP status',
    labelNames: ['model', 'provider', 'outcome', 'status'] as const,
    registers,
  });
  const tokens = new HotCounter({
    name: 'maas_gateway_tokens_total',
    help: 'Tokens metered on /v1 by model and type (prompt, completion)',
    labelNames: ['model', 'provider', 'type'] as const,
    registers,
  });
  const duration = new HotHistogram({
    name: 'maas_gateway_request_duration_seconds',
    help: 'Time from a /v1 request to its last byte, by model and provider',
    labelNames: ['model', 'provider'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  const ttft = new HotHistogram({
    name: 'maas_gateway_time_to_first_token_seconds',
    help: 'Time from a /v1 request to the first byte of its answer, by model and provider',
    labelNames: ['model', 'provider'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  new Gauge({
    name: 'maas_usage_events_pending',
    help: 'Usage events not yet written to the database (buffered in memory or spooled to disk)',
    registers,
    collect() {
      this.set(usagePending());
    },
  });

  const children = new Map<string, Children>();
  const childrenOf = (model: string, provider: string, outcome: string, status: string): Children => {
    const key = `${model}\n${provider}\n${outcome}\n${status}`;
    let c = children.get(key);
    if (!c) {
      if (children.size >= MAX_LABEL_SETS) children.clear();
      c = {
        requests: requests.labels(model, provider, outcome, status),
        prompt: tokens.labels(model, provider, 'prompt'),
        completion: tokens.labels(model, provider, 'completion'),
        duration: duration.labels(model, provider),
        ttft: ttft.labels(model, provider),
      };
      children.set(key, c);
    }
    return c;
  };

  return {
    record(state, promptTokens, completionTokens, latencyMs) {
      const model = requestedModel(state) ?? 'unknown';
      const provider = state.providerName ?? 'none';
      const c = childrenOf(model, provider, state.outcome, String(state.httpStatus));
      c.requests.inc();
      if (promptTokens > 0) c.prompt.inc(promptTokens);
      if (completionTokens > 0) c.completion.inc(completionTokens);
      c.duration.observe(latencyMs / 1000);
      if (state.ttftMs !== null) c.ttft.observe(state.ttftMs / 1000);
    },
  };
}
