import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export class BodyTooLargeError extends Error {}

/**
 * Reads a whole response body, refusing one over `limit` bytes. Listeners rather than `for await`
 * (an async iterator costs a promise per chunk), passed inline: the source runs through tsx, which
 * renames every named closure it makes, per request. Once the body ended, failed or closed, later
 * events settle nothing: the promise is settled already.
 */
export function readBody(body: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        reject(new BodyTooLargeError(`upstream answer larger than ${limit} bytes`));
        body.destroy();
      }
    });
    body.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    body.on('error', reject);
    // destroyed without an error (an abort): the promise must not stay pending
    body.on('close', () => reject(body.errored ?? new Error('upstream body closed before its end')));
  });
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
