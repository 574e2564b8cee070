import type { FileRow } from './schema.ts';
import type { ByteRange } from './storage/types.ts';

/**
 * One `bytes=a-b`, `bytes=a-` or `bytes=-n` range within a file of `size` bytes; null when there is
 * no Range header or one we do not serve (several ranges, other units: the whole file is sent).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): (ByteRange & { end: number }) | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Headers of a file's content. The filename goes out percent-encoded (RFC 6266 `filename*`), so
 * nothing a caller named a file can break out of the header.
 */
export function contentHeaders(row: FileRow, range?: ByteRange & { end: number }): Record<string, string> {
  const ascii = row.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(row.filename)}`,
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
  };
  if (range) {
    headers['content-length'] = String(range.end - range.start + 1);
    headers['content-range'] = `bytes ${range.start}-${range.end}/${row.bytes}`;
  } else {
    headers['content-length'] = String(row.bytes);
  }
  return headers;
}

function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
