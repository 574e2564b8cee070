import { ConfigError } from '../../config.ts';

export type TraceExporterName = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingSettings {
  exporters: TraceExporterName[];
  protocol: OtlpProtocol;
}

const EXPORTERS = new Set(['otlp', 'console', 'none']);
const PROTOCOLS = new Set(['http/protobuf', 'http/json']);

/**
 * Whether to trace, from the standard OpenTelemetry variables. Unlike the SDK's own default (otlp),
 * tracing is off unless `OTEL_TRACES_EXPORTER` names an exporter: maas sends nothing anywhere that
 * its operator did not ask for. `OTEL_SDK_DISABLED=true` turns it off whatever else is set.
 * A value maas cannot honour (an unknown exporter, OTLP over gRPC) stops the start with one line.
 */
export function readTracingSettings(env: NodeJS.ProcessEnv): TracingSettings | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  const names = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const name of names) {
    if (!EXPORTERS.has(name))
      throw new ConfigError(`OTEL_TRACES_EXPORTER: unknown exporter "${name}" (otlp, console or none)`);
  }
  if (names.length === 0 || names.includes('none')) return null;
  const protocolVar = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (env[protocolVar]?.trim() || 'http/protobuf').toLowerCase();
  if (!PROTOCOLS.has(protocol))
    throw new ConfigError(
      `${protocolVar}: "${protocol}" is not supported (http/protobuf or http/json; gRPC is not built in)`,
    );
  return {
    exporters: [...new Set(names)] as TraceExporterName[],
    protocol: protocol as OtlpProtocol,
  };
}
