import { describe, expect, it } from 'vitest';
import { contentHeaders, parseRange } from './content-headers.ts';
import type { FileRow } from './schema.ts';

const row = (filename: string, bytes = 100): FileRow => ({
  id: 'file-01jz0000000000000000000000',
  orgId: 'org_x',
  projectId: 'prj_x',
  purpose: 'batch',
  filename,
  bytes,
  reservedBytes: bytes,
  status: 'processed',
  createdAt: new Date(0),
  expiresAt: null,
});

describe('parseRange', () => {
  it('reads one byte range, open-ended and suffix forms included', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-1000', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
  });

  it('serves the whole file for no range or one it does not serve, refuses one outside the file', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
    expect(parseRange('bytes=-', 100)).toBeNull();
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=9-3', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
  });
});

describe('contentHeaders', () => {
  it('percent-encodes the filename so that nothing breaks out of the header', () => {
    const h = contentHeaders(row('evil"\r\nset-cookie: a=b;\u00e9.txt'));
    expect(h['content-disposition']).not.toMatch(/[\r\n]/);
    expect(h['content-disposition']).toBe(
      `attachment; filename="evil___set-cookie: a=b;_.txt"; filename*=UTF-8''evil%22%0D%0Aset-cookie%3A%20a%3Db%3B%C3%A9.txt`,
    );
    expect(h['content-length']).toBe('100');
    expect(h['content-type']).toBe('application/octet-stream');
  });

  it('describes a range', () => {
    const h = contentHeaders(row('a.jsonl'), { start: 10, end: 19 });
    expect(h['content-length']).toBe('10');
    expect(h['content-range']).toBe('bytes 10-19/100');
  });
});
