import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutboundPolicy } from '@maas/outbound';
import { startModelFileServer } from '@maas/testkit/src/gguf/index.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { ChecksumMismatch, DownloadRefused, fetchModel, type Progress, sha256File } from './fetch-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'maas-dl-'));
const source = join(dir, 'source.bin');
writeFileSync(source, Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251)));
const server = await startModelFileServer({ '/org/repo/resolve/main/model.gguf': source });
const url = `${server.url}/org/repo/resolve/main/model.gguf`;
const hash = await sha256File(source);
afterAll(() => server.close());
/** the file server listens on loopback, which a node allows only when its admin says so */
const outbound = createOutboundPolicy({ allow: '127.0.0.0/8' });

describe('model download', () => {
  it('downloads with progress and checks the checksum', async () => {
    const progress: Progress[] = [];
    const dest = join(dir, 'a', 'model.gguf');
    await fetchModel({
      outbound,
      url,
      dest,
      checksum: `sha256:${hash}`,
      onProgress: (p) => progress.push(p),
    });
    expect(readFileSync(dest).equals(readFileSync(source))).toBe(true);
    expect(progress.at(-1)).toEqual({ bytes: 300_000, total: 300_000 });
    const before = server.requests.length;
    await fetchModel({ outbound, url, dest });
    expect(server.requests.length).toBe(before); // a finished file is not fetched again
  });

  it('resumes a dropped download with a Range request', async () => {
    const dest = join(dir, 'b', 'model.gguf');
    server.cutAfter(100_000);
    await fetchModel({ outbound, url, dest, checksum: `sha256:${hash}` });
    expect(statSync(dest).size).toBe(300_000);
    const ranges = server.requests.filter((r) => r.method === 'GET').map((r) => r.range);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges.at(-1) ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(100_000);
  });

  it('resumes a partial file left by a previous run', async () => {
    const dest = join(dir, 'c', 'model.gguf');
    await fetchModel({ outbound, url, dest: join(dir, 'c', 'warm.gguf') });
    writeFileSync(`${dest}.part`, readFileSync(source).subarray(0, 250_000));
    await fetchModel({ outbound, url, dest, checksum: `sha256:${hash}` });
    expect(readFileSync(dest).equals(readFileSync(source))).toBe(true);
    expect(server.requests.at(-1)!.range).toBe('bytes=250000-');
  });

  it('rejects a wrong checksum and leaves no file behind', async () => {
    const dest = join(dir, 'd', 'model.gguf');
    await expect(
      fetchModel({ outbound, url, dest, checksum: `sha256:${'0'.repeat(64)}` }),
    ).rejects.toBeInstanceOf(ChecksumMismatch);
    expect(() => statSync(dest)).toThrow();
    expect(() => statSync(`${dest}.part`)).toThrow();
  });

  it('refuses a loopback source unless the policy allows it, and never connects', async () => {
    const before = server.requests.length;
    await expect(fetchModel({ url, dest: join(dir, 'f', 'x'), attempts: 3 })).rejects.toThrow(
      /address not allowed by the outbound policy/,
    );
    await expect(
      fetchModel({ url: 'http://169.254.169.254/latest/meta-data', dest: join(dir, 'f', 'y') }),
    ).rejects.toBeInstanceOf(DownloadRefused);
    expect(server.requests.length).toBe(before);
  });

  it('does not retry a 404', async () => {
    await expect(
      fetchModel({ outbound, url: `${server.url}/missing.gguf`, dest: join(dir, 'e', 'x') }),
    ).rejects.toBeInstanceOf(DownloadRefused);
  });
});
