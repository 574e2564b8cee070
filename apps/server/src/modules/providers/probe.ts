import { describeNetworkError } from '@maas/outbound';
import type { Dispatcher } from 'undici';
import type { Adapter, ProviderConnection } from '../gateway/index.ts';
import type { ProbeResult } from './health.ts';

const MAX_PROBE_BYTES = 1024 * 1024;

export interface ProbeTarget {
  adapter: Adapter;
  conn: ProviderConnection;
  headers: Record<string, string>;
}

/**
 * Calls the upstream's cheap endpoint (`GET …/models`) and reports whether it answered, how fast,
 * and which models it lists. Errors are generic (a class or a status): never the upstream's body
 * or an address, which would let a tenant read internal services through a provider.
 */
export async function probeUpstream(
  dispatcher: Dispatcher,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const req = target.adapter.probe(target.conn);
  const at = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await dispatcher.request({
      method: req.method,
      path: req.path,
      headers: req.method === 'GET' ? withoutContentType(target.headers) : target.headers,
      body: req.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await readLimited(res.body);
    const latencyMs = elapsed();
    if (res.statusCode >= 400) {
      return {
        ok: false,
        at,
        latencyMs,
        statusCode: res.statusCode,
        error: `upstream answered ${res.statusCode}`,
      };
    }
    return { ok: true, at, latencyMs, statusCode: res.statusCode, error: null, models: modelIdsOf(text) };
  } catch (err) {
    return { ok: false, at, latencyMs: elapsed(), statusCode: null, error: describeError(err) };
  }
}

function withoutContentType(headers: Record<string, string>): Record<string, string> {
  const { 'content-type': _omit, ...rest } = headers;
  return rest;
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_PROBE_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function modelIdsOf(text: string): string[] | undefined {
  try {
    const data = (JSON.parse(text) as { data?: unknown }).data;
    if (!Array.isArray(data)) return undefined;
    return data
      .map((m) => (m && typeof m === 'object' ? (m as { id?: unknown }).id : undefined))
      .filter((id): id is string => typeof id === 'string')
      .slice(0, 200);
  } catch {
    return undefined;
  }
}

/** A short, generic description of a network error (`connection refused`, `timed out` …). */
export const describeError = (err: unknown): string => describeNetworkError(err);
