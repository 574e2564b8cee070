import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config.ts';
import { readTracingSettings } from './tracing-settings.ts';

describe('readTracingSettings', () => {
  it('is off unless OTEL_TRACES_EXPORTER names an exporter', () => {
    expect(readTracingSettings({})).toBeNull();
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeNull();
    expect(readTracingSettings({ OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(readTracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toBeNull();
  });

  it('takes the exporters and the OTLP protocol (traces-specific first; protobuf by default)', () => {
    expect(readTracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({
      exporters: ['otlp'],
      protocol: 'http/protobuf',
    });
    expect(
      readTracingSettings({
        OTEL_TRACES_EXPORTER: 'OTLP, console',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }),
    ).toEqual({ exporters: ['otlp', 'console'], protocol: 'http/json' });
  });

  it('refuses what it cannot honour with a one-line ConfigError', () => {
    expect(() => readTracingSettings({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(ConfigError);
    expect(() =>
      readTracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported/);
  });
});
