import type { Dispatcher } from 'undici';
import type { Adapter, ProviderConnection } from '../gateway/adapters/types.ts';
import type { ProbeResult } from './health.ts';

const MAX_PROBE_BYTES = 1024 * 1024;

export interface ProbeTarget {
  adapter: Adapter;
  conn: ProviderConnection;
  headers: Record<string, string>;
}

/**
 * Calls the upstream's cheap endpoint (`GET …/models`) and reports whether it answered, how fast,
 * and which models it lists.
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
      const failure = target.adapter.readError(res.statusCode, Buffer.from(text));
      return { ok: false, at, latencyMs, statusCode: res.statusCode, error: failure.message };
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

/** A short, secret-free description of a network error. */
export function describeError(err: unknown): string {
  const e = err as {
    code?: string;
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return 'timed out';
  }
  const code = e?.code ?? e?.cause?.code;
  const message = e?.message ?? e?.cause?.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
