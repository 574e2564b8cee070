import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export class BodyTooLargeError extends Error {}

/** Reads a whole response body, refusing one over `limit` bytes. */
export async function readBody(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new BodyTooLargeError(`upstream answer larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** Reads at most `limit` bytes of an error body and drops the rest. */
export async function readErrorBody(body: Readable, limit = 64 * 1024): Promise<Buffer> {
  try {
    return await readBody(body, limit);
  } catch {
    return Buffer.alloc(0);
  }
}

/** Resolves when the client can take more bytes, or is gone. */
export function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
