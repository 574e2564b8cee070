import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  durationS: number;
}

export interface Measurement {
  connections: number;
  duration_s: number;
  /** completed 2xx responses per second */
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Runs autocannon against one URL. Latency comes from autocannon's per-response timings (floats,
 * in ms) rather than its histogram, which keeps whole milliseconds only — too coarse at 1 connection.
 */
export function runLoad(spec: LoadSpec): Promise<Measurement> {
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        body: spec.body,
        connections: spec.connections,
        duration: spec.durationS,
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error);
        const sorted = Float64Array.from(samples).sort();
        const seconds = result.duration || spec.durationS;
        const mean = sorted.length ? sorted.reduce((sum, v) => sum + v, 0) / sorted.length : Number.NaN;
        resolve({
          connections: spec.connections,
          duration_s: round(seconds, 2),
          rps: round(sorted.length / seconds, 1),
          p50_ms: round(percentile(sorted, 50)),
          p90_ms: round(percentile(sorted, 90)),
          p99_ms: round(percentile(sorted, 99)),
          mean_ms: round(mean),
          requests: sorted.length,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) samples.push(responseTime);
    });
  });
}
