import { describe, expect, it } from 'vitest';
import { downloadTarget } from './file-transfer.ts';
import { barsEnabled, formatBytes } from './progress-bar.ts';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('barsEnabled', () => {
  it('draws only for a person at a terminal', () => {
    expect(barsEnabled({}, {}, tty)).toBe(true);
    expect(barsEnabled({ output: 'table' }, {}, tty)).toBe(true);
  });
  it('never when piped, with NO_COLOR or --no-color, in CI, on a dumb terminal, or with -o json|yaml', () => {
    expect(barsEnabled({}, {}, pipe)).toBe(false);
    expect(barsEnabled({}, { NO_COLOR: '' }, tty)).toBe(false);
    expect(barsEnabled({ color: false }, {}, tty)).toBe(false);
    expect(barsEnabled({}, { CI: 'true' }, tty)).toBe(false);
    expect(barsEnabled({}, { TERM: 'dumb' }, tty)).toBe(false);
    expect(barsEnabled({ output: 'json' }, {}, tty)).toBe(false);
    expect(barsEnabled({ output: 'yaml' }, {}, tty)).toBe(false);
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal below ten', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(512 * 1024 * 1024)).toBe('512 MB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GB');
  });
});

describe('downloadTarget', () => {
  it('-o names the file; stdout without it or with -', () => {
    expect(downloadTarget(undefined)).toBeUndefined();
    expect(downloadTarget('-')).toBeUndefined();
    expect(downloadTarget('out.jsonl')).toBe('out.jsonl');
  });
  it('refuses a format word (exit 2)', () => {
    expect(() => downloadTarget('json')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
