import { DiagLogLevel, diag } from '@opentelemetry/api';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { createGatewaySpans } from './gateway-spans.ts';
import type { Tracing } from './tracing.ts';
import type { TracingSettings } from './tracing-settings.ts';

/**
 * The OpenTelemetry SDK for one server: a tracer provider of its own (never registered globally,
 * so several servers in one process keep theirs apart), one batch processor per exporter, the
 * resource from `OTEL_SERVICE_NAME`/`OTEL_RESOURCE_ATTRIBUTES` over `service.name=maas`. Loaded only
 * when tracing is on (see tracing.ts).
 *
 * The OTLP exporter's requests do not go through the outbound policy (`@maas/outbound`), on purpose:
 * that policy guards the calls made on a tenant's behalf to addresses a tenant chose (providers,
 * webhooks, downloads) and refuses private networks by default, where collectors live (a sidecar on
 * localhost, a cluster service). The collector's address comes only from the operator's environment
 * (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`); no tenant input reaches it or what is sent there.
 */
export async function startOtelTracing(settings: TracingSettings, log: Logger): Promise<Tracing> {
  diag.setLogger(
    {
      error: (message, ...args) => log.warn({ otel: args.map(String) }, `opentelemetry: ${message}`),
      warn: (message, ...args) => log.warn({ otel: args.map(String) }, `opentelemetry: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const resource = resourceFromAttributes({ 'service.name': 'maas' }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const exporters = await Promise.all(settings.exporters.map((name) => exporterFor(name, settings)));
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: exporters.map((exporter) => new BatchSpanProcessor(exporter)),
  });
  const tracer = provider.getTracer('maas-gateway');
  return {
    ...createGatewaySpans(tracer),
    async shutdown() {
      await provider.shutdown().catch((err: unknown) => log.warn({ err }, 'tracing shutdown failed'));
    },
  };
}

async function exporterFor(name: TracingSettings['exporters'][number], settings: TracingSettings) {
  if (name === 'console') return new ConsoleSpanExporter() as SpanExporter;
  // endpoint, headers, timeout, compression and certificates come from the OTEL_EXPORTER_OTLP_* variables
  if (settings.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter() as SpanExporter;
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter() as SpanExporter;
}
