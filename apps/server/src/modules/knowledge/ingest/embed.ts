import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { KeyPrincipal } from '../../../http/principal.ts';
import { newId } from '../../../ids.ts';
import type { GatewayContext } from '../../gateway/index.ts';
import { runInternal } from '../../gateway/index.ts';

/** An embedding request that failed for good (or the model's answer made no sense). */
export class EmbedError extends Error {
  override name = 'EmbedError';
  constructor(
    message: string,
    /** worth another attempt later (429, 5xx): the job is retried by the engine */
    readonly transient: boolean,
    /** the gateway's answer (429: a limit of the caller refused it) */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface EmbedOptions {
  gw: GatewayContext;
  key: KeyPrincipal;
  model: string;
  /** inputs per request */
  batchSize?: number;
  /** requests in flight at once */
  concurrency?: number;
  /** attempts per request on 429/503 before giving up */
  maxAttempts?: number;
  signal?: AbortSignal;
  /** called after each batch with the number of inputs embedded so far */
  progress?: (done: number) => void;
}

const TRANSIENT = new Set([429, 500, 502, 503, 504]);

/**
 * Embeds `inputs` through the gateway as `key` (admitted, limited and metered as the key's own
 * traffic): batches of inputs, a few requests at once, backoff with jitter on 429 and 5xx.
 */
export async function embedTexts(inputs: string[], opts: EmbedOptions): Promise<number[][]> {
  const size = opts.batchSize ?? 64;
  const limit = pLimit(opts.concurrency ?? 2);
  const out: number[][] = new Array(inputs.length);
  let done = 0;
  const batches: number[] = [];
  for (let i = 0; i < inputs.length; i += size) batches.push(i);
  await Promise.all(
    batches.map((from) =>
      limit(async () => {
        const slice = inputs.slice(from, from + size);
        const vectors = await embedBatch(slice, opts);
        vectors.forEach((v, i) => {
          out[from + i] = v;
        });
        done += slice.length;
        opts.progress?.(done);
      }),
    ),
  );
  return out;
}

async function embedBatch(input: string[], opts: EmbedOptions): Promise<number[][]> {
  const attempts = opts.maxAttempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    const res = await runInternal(opts.gw, {
      key: opts.key,
      endpoint: 'embeddings',
      body: { model: opts.model, input, encoding_format: 'float' },
      requestId: newId('req'),
      signal: opts.signal,
    });
    if (res.status === 200) return vectorsOf(res.body, input.length);
    const message = errorText(res.body, res.status);
    if (!TRANSIENT.has(res.status)) throw new EmbedError(message, false, res.status);
    if (attempt >= attempts) throw new EmbedError(message, true, res.status);
    const wait = Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    await sleep(wait, undefined, { signal: opts.signal });
  }
}

function vectorsOf(body: unknown, expected: number): number[][] {
  const data = (body as { data?: { index?: number; embedding?: unknown }[] } | null)?.data;
  if (!Array.isArray(data) || data.length !== expected)
    throw new EmbedError(
      `The embedding model answered ${data?.length ?? 0} vectors for ${expected} inputs.`,
      false,
    );
  const out: number[][] = new Array(expected);
  for (const [i, item] of data.entries()) {
    const v = item.embedding;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw new EmbedError('The embedding model answered something that is not a vector of numbers.', false);
    out[item.index ?? i] = v as number[];
  }
  return out;
}

function errorText(body: unknown, status: number): string {
  const err = (body as { error?: { message?: string; code?: string } } | null)?.error;
  return `embedding request failed (HTTP ${status}${err?.code ? `, ${err.code}` : ''}): ${err?.message ?? 'no message'}`;
}
