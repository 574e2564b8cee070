import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export class BodyTooLargeError extends Error {}

/**
 * Reads a whole response body, refusing one over `limit` bytes. Event listeners rather than
 * `for await`: an async iterator costs a promise per chunk on the hot path.
 */
export function readBody(body: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        body.destroy();
        reject(new BodyTooLargeError(`upstream answer larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    // a body destroyed without an error (an abort) must not leave the promise pending
    const onClose = () => {
      cleanup();
      reject(body.errored ?? new Error('upstream body closed before its end'));
    };
    const cleanup = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
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
