import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSource, SourceError } from '@maas/contracts/agent';
import type { OutboundPolicy } from '@maas/outbound';
import {
  ChecksumMismatch,
  DownloadRefused,
  fetchModel,
  type Progress,
  sha256File,
} from './download/fetch-model.ts';
import { DOWNLOAD_META } from './host/model-files.ts';

/** A failure the node cannot get past: the server places the replica elsewhere. */
export class Fatal extends Error {}

export interface ResolveDeps {
  cacheDir: string;
  hfEndpoint: string | undefined;
  /** where downloads may connect (public addresses and the node's allow-list) */
  outbound: OutboundPolicy;
  signal: AbortSignal;
  onDownloading(): void;
  onProgress(p: Progress): void;
}

/** A cached download must match the replica's checksum too (the hash is remembered beside it). */
async function verifyCached(dest: string, checksum: string | null): Promise<void> {
  const want = checksum?.toLowerCase().replace(/^sha256:/, '');
  if (!want) return;
  const sidecar = `${dest}.sha256`;
  let got = await readFile(sidecar, 'utf8').then(
    (t) => t.trim(),
    () => null,
  );
  if (!got) {
    got = await sha256File(dest);
    await writeFile(sidecar, got);
  }
  if (got !== want)
    throw new Fatal(`checksum mismatch for the cached ${dest}: expected sha256:${want}, got sha256:${got}`);
}

/**
 * The model's path on this node: a local path must exist; a URL (hf:// too) is downloaded once into
 * `<cacheDir>/<hash of url>/<file>`, with progress, resume and checksum, and tagged with its source.
 */
export async function resolveModel(
  spec: { source: string; checksum: string | null },
  deps: ResolveDeps,
): Promise<string> {
  let source: ReturnType<typeof parseSource>;
  try {
    source = parseSource(spec.source, deps.hfEndpoint);
  } catch (err) {
    if (err instanceof SourceError) throw new Fatal(err.message);
    throw err;
  }
  if (source.kind === 'path') {
    if (!(await stat(source.path).catch(() => null)))
      throw new Fatal(`model file not found on this node: ${source.path}`);
    return source.path;
  }
  const dir = join(deps.cacheDir, createHash('sha256').update(source.url).digest('hex').slice(0, 16));
  const dest = join(dir, source.fileName);
  if (await stat(dest).catch(() => null)) {
    await verifyCached(dest, spec.checksum);
    return dest;
  }
  deps.onDownloading();
  try {
    await fetchModel({
      url: source.url,
      dest,
      checksum: spec.checksum,
      outbound: deps.outbound,
      signal: deps.signal,
      onProgress: deps.onProgress,
    });
  } catch (err) {
    if (!deps.signal.aborted && (err instanceof ChecksumMismatch || err instanceof DownloadRefused))
      throw new Fatal(err.message);
    throw err;
  }
  if (spec.checksum) await writeFile(`${dest}.sha256`, spec.checksum.toLowerCase().replace(/^sha256:/, ''));
  await writeFile(join(dir, DOWNLOAD_META), JSON.stringify({ source: spec.source, url: source.url }));
  return dest;
}
