import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createOutboundPolicy,
  isOutboundRefused,
  OUTBOUND_REFUSED_MESSAGE,
  type OutboundPolicy,
  outboundFetch,
} from '@maas/outbound';

export interface Progress {
  bytes: number;
  total: number | null;
}

export interface FetchModelOptions {
  url: string;
  dest: string;
  /** `sha256:<hex>`: the finished file must match */
  checksum?: string | null;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** attempts before giving up; each resumes where the previous stopped (default 5) */
  attempts?: number;
  headers?: Record<string, string>;
  /** where downloads may connect, redirects included (default: public addresses only) */
  outbound?: OutboundPolicy;
}

/** The download finished but its bytes are not the ones expected. */
export class ChecksumMismatch extends Error {}
/** The server refused (4xx): retrying will not help. */
export class DownloadRefused extends Error {}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function expectedHash(checksum: string | null | undefined): string | null {
  if (!checksum) return null;
  const m = /^sha256:([0-9a-f]{64})$/i.exec(checksum);
  if (!m) throw new ChecksumMismatch(`unsupported checksum ${checksum}: use sha256:<64 hex>`);
  return m[1]!.toLowerCase();
}

/**
 * Downloads `url` to `dest` through `dest.part`, resuming with a Range request after a dropped
 * connection (also across restarts of the agent), reporting progress, and checking the SHA-256
 * before the file takes its final name. A finished `dest` is not fetched again.
 */
export async function fetchModel(opts: FetchModelOptions): Promise<string> {
  const want = expectedHash(opts.checksum);
  const done = await stat(opts.dest).catch(() => null);
  if (done?.isFile()) return opts.dest;
  await mkdir(dirname(opts.dest), { recursive: true });
  const part = `${opts.dest}.part`;
  const attempts = opts.attempts ?? 5;
  const net = outboundFetch(opts.outbound ?? createOutboundPolicy());
  let lastError: unknown;
  try {
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await downloadOnce(opts, part, net.fetch);
        lastError = undefined;
        break;
      } catch (err) {
        lastError = err;
        if (isOutboundRefused(err)) throw new DownloadRefused(`${opts.url}: ${OUTBOUND_REFUSED_MESSAGE}`);
        if (err instanceof DownloadRefused || opts.signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5_000)));
      }
    }
  } finally {
    await net.close().catch(() => {});
  }
  if (lastError) throw lastError;
  if (want) {
    const got = await sha256File(part);
    if (got !== want) {
      await rm(part, { force: true });
      throw new ChecksumMismatch(
        `checksum mismatch for ${opts.url}: expected sha256:${want}, got sha256:${got}`,
      );
    }
  }
  await rename(part, opts.dest);
  return opts.dest;
}

async function downloadOnce(
  opts: FetchModelOptions,
  part: string,
  fetch: typeof globalThis.fetch,
): Promise<void> {
  const have = (await stat(part).catch(() => null))?.size ?? 0;
  const res = await fetch(opts.url, {
    headers: { ...opts.headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
    redirect: 'follow',
    signal: opts.signal ?? null,
  });
  if (res.status === 416 && have > 0) return; // the partial file is already complete
  if (res.status >= 400 && res.status < 500) {
    throw new DownloadRefused(`${opts.url} answered ${res.status} ${res.statusText}`);
  }
  if (!res.ok || !res.body) throw new Error(`${opts.url} answered ${res.status}`);
  const resumed = res.status === 206;
  const start = resumed ? have : 0;
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const total = Number.isFinite(length) ? start + length : null;
  let bytes = start;
  let lastReport = 0;
  const report = (force = false) => {
    const now = Date.now();
    if (force || now - lastReport >= 250) {
      lastReport = now;
      opts.onProgress?.({ bytes, total });
    }
  };
  report(true);
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    report();
  });
  await pipeline(body, createWriteStream(part, { flags: resumed ? 'a' : 'w' }));
  report(true);
  if (total !== null && bytes < total) throw new Error(`connection closed at ${bytes} of ${total} bytes`);
}
