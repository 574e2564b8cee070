import { describeNetworkError } from '@maas/outbound';
import { type Dispatcher, fetch } from '@maas/outbound/undici';
import { redactSecrets, signMessage } from './signing.ts';

/** What one attempt needs: where, the exact body, the message id and the secrets that sign. */
export interface DeliveryTarget {
  url: string;
  messageId: string;
  payload: string;
  secrets: readonly string[];
}

export interface AttemptOutcome {
  /** a 2xx answer */
  ok: boolean;
  /** the receiver answered 410 Gone: it wants no more events */
  gone: boolean;
  status: number | null;
  /** why it failed, in generic words (never the receiver's address) */
  error: string | null;
  /** the first characters of the answer, secret shapes removed */
  snippet: string | null;
}

export interface DeliverOptions {
  /** connections pass the outbound-request policy (an `outboundAgent`) */
  dispatcher: Dispatcher;
  timeoutMs?: number;
  /** bytes of the answer read at most; the rest is dropped */
  maxReadBytes?: number;
  snippetChars?: number;
  userAgent?: string;
  now?: () => Date;
}

/** Reads at most `max` bytes of a body and drops the rest. */
async function readSome(body: ReadableStream<Uint8Array> | null, max: number): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max);
}

/**
 * POSTs one signed Standard Webhooks message and classifies the answer. Never throws: network
 * errors, timeouts and refusals by the outbound policy come back as an outcome. Redirects are
 * not followed (a 3xx is a failure).
 */
export async function deliverOnce(target: DeliveryTarget, opts: DeliverOptions): Promise<AttemptOutcome> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const at = (opts.now ?? (() => new Date()))();
  const headers = signMessage(target.secrets, target.messageId, at, target.payload);
  try {
    const res = await fetch(target.url, {
      dispatcher: opts.dispatcher,
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'user-agent': opts.userAgent ?? 'maas-webhooks',
      },
      body: target.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const raw = await readSome(res.body as ReadableStream<Uint8Array> | null, opts.maxReadBytes ?? 4096);
    const text = redactSecrets(raw.toString('utf8'), target.secrets).replace(/\s+/g, ' ').trim();
    const snippet = text ? text.slice(0, opts.snippetChars ?? 200) : null;
    const ok = res.status >= 200 && res.status < 300;
    return {
      ok,
      gone: res.status === 410,
      status: res.status,
      error: ok ? null : `the receiver answered ${res.status}`,
      snippet,
    };
  } catch (err) {
    return { ok: false, gone: false, status: null, error: describeNetworkError(err), snippet: null };
  }
}
