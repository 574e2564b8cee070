/** The outcome of one active probe or connection test. */
export interface ProbeResult {
  ok: boolean;
  at: Date;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
  models?: string[];
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

export interface HealthSnapshot {
  status: HealthStatus;
  lastProbe: ProbeResult | null;
  errorRate: number;
  requests: number;
  windowS: number;
}

const BUCKET_MS = 10_000;
const BUCKETS = 6;

interface Entry {
  probe: ProbeResult | null;
  /** bucket number (time / BUCKET_MS) each slot holds */
  slot: Float64Array;
  ok: Uint32Array;
  failed: Uint32Array;
}

/**
 * Health of each provider: the last active probe, and the share of failed upstream calls over the
 * last minute (ten-second buckets; recording is a map lookup and two array writes).
 */
export function createHealthBook(now: () => number = Date.now) {
  const entries = new Map<string, Entry>();
  const entryOf = (id: string): Entry => {
    let e = entries.get(id);
    if (!e) {
      e = {
        probe: null,
        slot: new Float64Array(BUCKETS).fill(-1),
        ok: new Uint32Array(BUCKETS),
        failed: new Uint32Array(BUCKETS),
      };
      entries.set(id, e);
    }
    return e;
  };

  return {
    /** one upstream call's outcome (hot path) */
    record(providerId: string, ok: boolean): void {
      const e = entryOf(providerId);
      const bucket = Math.floor(now() / BUCKET_MS);
      const i = bucket % BUCKETS;
      if (e.slot[i] !== bucket) {
        e.slot[i] = bucket;
        e.ok[i] = 0;
        e.failed[i] = 0;
      }
      if (ok) e.ok[i]! += 1;
      else e.failed[i]! += 1;
    },

    recordProbe(providerId: string, result: ProbeResult): void {
      entryOf(providerId).probe = result;
    },

    forget(providerId: string): void {
      entries.delete(providerId);
    },

    /** `openTargets`: how many of the provider's targets have an open breaker, of `targets` */
    snapshot(
      providerId: string,
      breakers: { open: number; total: number } = { open: 0, total: 0 },
    ): HealthSnapshot {
      const e = entries.get(providerId);
      let ok = 0;
      let failed = 0;
      if (e) {
        const oldest = Math.floor(now() / BUCKET_MS) - BUCKETS + 1;
        for (let i = 0; i < BUCKETS; i++) {
          if (e.slot[i]! >= oldest) {
            ok += e.ok[i]!;
            failed += e.failed[i]!;
          }
        }
      }
      const requests = ok + failed;
      const errorRate = requests === 0 ? 0 : failed / requests;
      const probe = e?.probe ?? null;
      return {
        status: statusOf(probe, requests, errorRate, breakers),
        lastProbe: probe,
        errorRate: Math.round(errorRate * 1000) / 1000,
        requests,
        windowS: (BUCKET_MS * BUCKETS) / 1000,
      };
    },
  };
}

export type HealthBook = ReturnType<typeof createHealthBook>;

function statusOf(
  probe: ProbeResult | null,
  requests: number,
  errorRate: number,
  breakers: { open: number; total: number },
): HealthStatus {
  const busy = requests >= 5;
  if (breakers.total > 0 && breakers.open === breakers.total) return 'unhealthy';
  if (busy && errorRate >= 0.5) return 'unhealthy';
  if (probe && !probe.ok && (requests === 0 || errorRate >= 0.5)) return 'unhealthy';
  if (breakers.open > 0 || (busy && errorRate >= 0.1) || (probe && !probe.ok)) return 'degraded';
  if (probe?.ok || requests > 0) return 'healthy';
  return 'unknown';
}
