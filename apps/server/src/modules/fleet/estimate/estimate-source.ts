import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isGgufName, type ModelSource } from '@maas/contracts/agent';
import {
  createOutboundPolicy,
  describeNetworkError,
  type OutboundPolicy,
  outboundFetch,
} from '@maas/outbound';
import { estimateFromGguf } from './from-gguf.ts';
import { estimateFromFileSize, estimateFromHfConfig, type HfConfig } from './from-hf-config.ts';
import type { MemoryEstimate } from './memory-estimate.ts';

export class EstimateUnavailable extends Error {}

export interface EstimateOptions {
  contextLength?: number | null;
  /** give up on a remote header after this long (default 5 s) */
  timeoutMs?: number;
  /** where a remote header may be read from, redirects included (default: public addresses only) */
  outbound?: OutboundPolicy;
}

const WEIGHT_FILE = /\.(safetensors|bin|pt|pth)$/i;

/**
 * Estimates from what can be read here without the internet: a local file or directory, or the
 * GGUF header of a URL fetched with a range request. Throws EstimateUnavailable when neither works.
 */
export async function estimateSource(
  source: ModelSource,
  opts: EstimateOptions = {},
): Promise<MemoryEstimate> {
  return source.kind === 'path'
    ? estimatePath(source.path, opts)
    : estimateUrl(source.url, source.fileName, opts);
}

async function estimatePath(path: string, opts: EstimateOptions): Promise<MemoryEstimate> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new EstimateUnavailable(`${path} is not on this machine`);
  if (info.isFile()) {
    if (isGgufName(path)) {
      const { gguf } = await import('@huggingface/gguf'); // loaded by the first estimate, not at start
      const parsed = await gguf(path, { allowLocalFile: true });
      return estimateFromGguf(parsed, info.size, opts.contextLength);
    }
    return estimateFromFileSize(
      info.size,
      opts.contextLength ?? null,
      'a single weights file with no config.json',
    );
  }
  const names = await readdir(path);
  const ggufFile = names.find(isGgufName);
  if (ggufFile) return estimatePath(join(path, ggufFile), opts);
  let weights = 0;
  for (const name of names.filter((n) => WEIGHT_FILE.test(n))) weights += (await stat(join(path, name))).size;
  const config = await readFile(join(path, 'config.json'), 'utf8').then(
    (text) => JSON.parse(text) as HfConfig,
    () => null,
  );
  if (!config) return estimateFromFileSize(weights, opts.contextLength ?? null, 'no config.json');
  return estimateFromHfConfig(config, weights, opts.contextLength);
}

async function estimateUrl(url: string, fileName: string, opts: EstimateOptions): Promise<MemoryEstimate> {
  const timeout = opts.timeoutMs ?? 5_000;
  const net = outboundFetch(opts.outbound ?? createOutboundPolicy(), { timeout });
  const timedFetch: typeof fetch = (input, init) =>
    net.fetch(input, { ...init, signal: AbortSignal.timeout(timeout) });
  try {
    const head = await timedFetch(url, { method: 'HEAD', redirect: 'follow' });
    if (!head.ok) throw new EstimateUnavailable(`${url} answered ${head.status}`);
    const size = Number(head.headers.get('content-length') ?? Number.NaN);
    if (isGgufName(fileName)) {
      const { gguf } = await import('@huggingface/gguf');
      const parsed = await gguf(url, { fetch: timedFetch });
      if (!Number.isFinite(size)) throw new EstimateUnavailable(`${url} did not say how large it is`);
      return estimateFromGguf(parsed, size, opts.contextLength);
    }
    if (!Number.isFinite(size)) throw new EstimateUnavailable(`${url} did not say how large it is`);
    return estimateFromFileSize(
      size,
      opts.contextLength ?? null,
      'a single weights file with no config.json',
    );
  } catch (err) {
    if (err instanceof EstimateUnavailable) throw err;
    // a network failure by its class only (never an address); a parse error as it is
    const e = err as { cause?: unknown; code?: unknown; name?: string; message?: string };
    const why = e?.cause || e?.code || e?.name === 'TimeoutError' ? describeNetworkError(err) : e?.message;
    throw new EstimateUnavailable(`could not read ${url}: ${why}`);
  } finally {
    await net.close().catch(() => {});
  }
}
