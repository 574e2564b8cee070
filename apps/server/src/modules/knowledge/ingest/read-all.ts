import type { Readable } from 'node:stream';

/** A stored file's bytes (parsers need the whole document); stops when the job is aborted. */
export async function readAll(body: Readable, signal: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of body) {
      signal.throwIfAborted();
      parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts);
}
