import type { Readable } from 'node:stream';

/** Bytes `start` through `end` (inclusive, as in HTTP's Range header); `end` absent: to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

/** Thrown by `get` when nothing is stored under the key. */
export class StoredObjectMissingError extends Error {
  override name = 'StoredObjectMissingError';
  constructor(readonly key: string) {
    super(`no stored object ${key}`);
  }
}

/**
 * Where file bytes live. Keys are opaque ids chosen by maas (never a caller's filename). Bodies are
 * streamed both ways: neither side holds a whole file in memory.
 */
export interface FileStorage {
  readonly kind: 'local' | 's3';
  /** stores `body` under `key` (replacing what was there); `size` is a hint when the length is known */
  put(key: string, body: Readable, size?: number): Promise<{ bytes: number }>;
  /** the stored bytes; StoredObjectMissingError when there are none */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** removes the bytes; nothing stored is not an error */
  delete(key: string): Promise<void>;
  /** removes what a crash mid-upload may have left (partial files older than `olderThanMs`) */
  sweepPartials?(olderThanMs: number): Promise<void>;
  /** releases what the storage holds (clients, a scratch directory) */
  close(): Promise<void>;
}
