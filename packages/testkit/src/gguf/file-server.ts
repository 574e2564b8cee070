import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ModelFileServer {
  url: string;
  /** requests seen, for assertions on resume (`range`) */
  requests: { method: string; path: string; range: string | undefined }[];
  /** stop answering after this many body bytes of the next download (simulates a dropped connection) */
  cutAfter(bytes: number): void;
  close(): Promise<void>;
}

/**
 * Serves files from a map of URL path → file on 127.0.0.1: HEAD, GET and single `Range: bytes=a-b`
 * requests (206), like a model hub. Stands in for huggingface.co and HTTPS mirrors in tests.
 */
export async function startModelFileServer(files: Record<string, string>): Promise<ModelFileServer> {
  const requests: ModelFileServer['requests'] = [];
  let cut: number | null = null;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ method: req.method ?? 'GET', path, range: req.headers.range });
    const file = files[path];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    const size = statSync(file).size;
    let start = 0;
    let end = size - 1;
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      start = m[1] ? Number(m[1]) : size - Number(m[2]);
      end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
    }
    const headers = {
      'content-length': String(end - start + 1),
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    };
    res.writeHead(m ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (cut !== null) {
      // Send the first `cut` bytes, and drop the connection once they are on the wire.
      const slice = readFileSync(file).subarray(start, Math.min(end, start + cut - 1) + 1);
      cut = null;
      res.write(slice, () => setTimeout(() => res.destroy(), 20));
      return;
    }
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutAfter(bytes) {
      cut = bytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
