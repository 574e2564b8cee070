import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { readTracingSettings } from './tracing-settings.ts';

/**
 * OpenTelemetry tracing of the gateway, off unless `OTEL_TRACES_EXPORTER` names an exporter. When
 * off, nothing of the SDK (not even `@opentelemetry/api`) is loaded, and the gateway's hooks are
 * `null` checks. Spans follow the GenAI semantic conventions 1.37; see `gateway-spans.ts`.
 *
 * The types here are plain data so that the gateway hands over what it knows without the SDK.
 */
export interface Tracing {
  /** The request's span (server kind), continuing the client's W3C `traceparent` when it sent one. */
  startRequest(request: TracedRequest): RequestTrace;
  /** Exports what is buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

export interface TracedRequest {
  /** `chat.completions`, `completions`, `embeddings`, `rerank` */
  endpoint: string;
  /** the route (`/v1/chat/completions`); absent for work without an HTTP request (batch lines, async jobs) */
  route: string | undefined;
  /** the client's headers: only `traceparent` and `tracestate` are read */
  headers: IncomingHttpHeaders | undefined;
  /** performance.now() at arrival */
  startedAt: number;
}

/** A step of the request (admission, routing, settling usage) as a child span. */
export interface StepSpan {
  end(error?: string | null): void;
}

export interface TracedAttempt {
  /** the model as the registry names it (never the caller's string when no model matched) */
  requestModel: string;
  /** the model name the upstream serves */
  upstreamModel: string;
  /** `gen_ai.provider.name`: openai, anthropic, or a kind of our own (see gateway/trace-request.ts) */
  providerName: string;
  providerId: string;
  /** the upstream's origin, for `server.address` and `server.port` */
  origin: string;
  /** 1 for the first try; retries and fallbacks count on */
  number: number;
  stream: boolean;
}

export interface AttemptEnd {
  /** the upstream's HTTP status, when it answered */
  status: number | null;
  /** error class (`upstream_timeout`, `rate_limit_exceeded` …) when the attempt failed */
  error: string | null;
  /** performance.now() when the first token went to the client, when this attempt sent it */
  firstTokenAt: number | null;
}

export interface AttemptSpan {
  /** the upstream request's headers plus `traceparent` (and `tracestate`) of this attempt */
  headers(base: Record<string, string>): Record<string, string>;
  end(result: AttemptEnd): void;
}

/** What the request came to, for the GenAI attributes of its span. */
export interface RequestSummary {
  requestModel: string | null;
  status: number;
  outcome: string;
  error: string | null;
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  estimated: boolean;
  ttftMs: number | null;
  latencyMs: number;
  stream: boolean;
}

export interface RequestTrace {
  step(name: 'admit' | 'route' | 'usage'): StepSpan;
  /** one call to one upstream: a client span under `route` */
  attempt(attempt: TracedAttempt): AttemptSpan;
  /** ends the request's span with the summary's attributes (provider and response model: the last attempt's) */
  finish(summary: RequestSummary): void;
}

/**
 * Starts tracing when the environment asks for it, else returns null and loads nothing. Reads the
 * standard variables: `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER` (otlp, console, none),
 * `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` (http/protobuf, http/json); the SDK itself reads the
 * endpoint, headers, timeout, sampler (`OTEL_TRACES_SAMPLER[_ARG]`), batch (`OTEL_BSP_*`) and
 * resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) variables.
 */
export async function startTracing(env: NodeJS.ProcessEnv, log: Logger): Promise<Tracing | null> {
  const settings = readTracingSettings(env);
  if (!settings) return null;
  const { startOtelTracing } = await import('./otel-tracing.ts');
  const tracing = await startOtelTracing(settings, log);
  log.info({ exporters: settings.exporters, protocol: settings.protocol }, 'tracing on (OpenTelemetry)');
  return tracing;
}
