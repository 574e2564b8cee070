import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type {
  AttemptSpan,
  RequestSummary,
  RequestTrace,
  StepSpan,
  TracedRequest,
  Tracing,
} from './tracing.ts';

/**
 * The gateway's spans, after the GenAI semantic conventions **1.37** (gen_ai.provider.name, not the
 * older gen_ai.system):
 *
 *   POST /v1/chat/completions (server)     gen_ai.operation.name, gen_ai.request.model,
 *   ├─ admit                               gen_ai.response.model, gen_ai.provider.name,
 *   ├─ route                               gen_ai.usage.input_tokens/output_tokens,
 *   │  ├─ chat <upstream model> (client)   maas.gen_ai.time_to_first_token and
 *   │  └─ chat <upstream model> (client)   maas.gen_ai.time_per_output_token (seconds: the
 *   └─ usage                               values of semconv's gen_ai.server.* metrics of those names)
 *
 * Each upstream attempt (a retry, a fallback model) is a client span of its own, carrying the
 * `traceparent` the upstream receives; the attempt that answered has a `first_token` event.
 * Never recorded: prompt or completion content, API keys, org, project, key or user ids.
 */
const OPERATION: Record<string, string> = {
  'chat.completions': 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  rerank: 'rerank',
};

export function createGatewaySpans(tracer: Tracer): Pick<Tracing, 'startRequest'> {
  const propagator = new W3CTraceContextPropagator();
  return {
    startRequest(req: TracedRequest): RequestTrace {
      const parent = req.headers
        ? propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter)
        : ROOT_CONTEXT;
      const operation = OPERATION[req.endpoint] ?? req.endpoint;
      const attributes: Attributes = { 'gen_ai.operation.name': operation };
      if (req.route) {
        attributes['http.request.method'] = 'POST';
        attributes['http.route'] = req.route;
      }
      const span = tracer.startSpan(
        req.route ? `POST ${req.route}` : operation,
        { kind: req.route ? SpanKind.SERVER : SpanKind.INTERNAL, startTime: req.startedAt, attributes },
        parent,
      );
      return new GatewayRequestTrace(tracer, propagator, span, trace.setSpan(parent, span), operation);
    },
  };
}

class GatewayRequestTrace implements RequestTrace {
  private readonly open = new Set<Span>();
  private routeContext: Context | null = null;
  /** the last attempt's provider, and the upstream model that answered */
  private provider: string | null = null;
  private responseModel: string | null = null;

  constructor(
    private readonly tracer: Tracer,
    private readonly propagator: W3CTraceContextPropagator,
    private readonly span: Span,
    private readonly context: Context,
    private readonly operation: string,
  ) {}

  step(name: 'admit' | 'route' | 'usage'): StepSpan {
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL }, this.context);
    this.open.add(span);
    if (name === 'route') this.routeContext = trace.setSpan(this.context, span);
    return {
      end: (error?: string | null) => {
        if (!this.open.delete(span)) return;
        if (error) {
          span.setAttribute('error.type', error);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
        if (name === 'route') this.routeContext = null;
      },
    };
  }

  attempt(a: Parameters<RequestTrace['attempt']>[0]): AttemptSpan {
    const attributes: Attributes = {
      'gen_ai.operation.name': this.operation,
      'gen_ai.provider.name': a.providerName,
      'gen_ai.request.model': a.upstreamModel,
      'maas.provider.id': a.providerId,
      'maas.attempt': a.number,
      'maas.stream': a.stream,
    };
    try {
      const url = new URL(a.origin);
      attributes['server.address'] = url.hostname;
      attributes['server.port'] = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    } catch {
      // an origin that is not a URL: no server.* attributes
    }
    const span = this.tracer.startSpan(
      `${this.operation} ${a.upstreamModel}`,
      { kind: SpanKind.CLIENT, attributes },
      this.routeContext ?? this.context,
    );
    this.open.add(span);
    this.provider = a.providerName;
    return {
      headers: (base) => {
        const headers = { ...base };
        this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
        return headers;
      },
      end: ({ status, error, firstTokenAt }) => {
        if (!this.open.delete(span)) return;
        if (status !== null) span.setAttribute('http.response.status_code', status);
        if (firstTokenAt !== null) span.addEvent('first_token', firstTokenAt);
        if (error) {
          span.setAttribute('error.type', error);
          span.setStatus({ code: SpanStatusCode.ERROR });
        } else {
          span.setAttribute('gen_ai.response.model', a.upstreamModel);
          this.responseModel = a.upstreamModel;
        }
        span.end();
      },
    };
  }

  finish(s: RequestSummary): void {
    for (const span of this.open) span.end();
    this.open.clear();
    const span = this.span;
    const attributes: Attributes = {
      'http.response.status_code': s.status,
      'maas.outcome': s.outcome,
      'maas.attempts': s.attempts,
      'gen_ai.usage.input_tokens': s.inputTokens,
      'gen_ai.usage.output_tokens': s.outputTokens,
      'maas.usage.estimated': s.estimated,
      'maas.stream': s.stream,
    };
    if (s.requestModel) attributes['gen_ai.request.model'] = s.requestModel;
    if (this.responseModel) attributes['gen_ai.response.model'] = this.responseModel;
    if (this.provider) attributes['gen_ai.provider.name'] = this.provider;
    if (s.ttftMs !== null) {
      attributes['maas.gen_ai.time_to_first_token'] = s.ttftMs / 1000;
      // after the first token, the rest of the answer over the tokens after the first (streams only)
      if (s.stream && s.outputTokens > 1)
        attributes['maas.gen_ai.time_per_output_token'] =
          Math.max(0, s.latencyMs - s.ttftMs) / 1000 / (s.outputTokens - 1);
    }
    if (s.error) attributes['error.type'] = s.error;
    span.setAttributes(attributes);
    if (s.status >= 500 || s.outcome === 'upstream_error' || s.outcome === 'timeout')
      span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}
