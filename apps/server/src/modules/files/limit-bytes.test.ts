import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { limitBytes } from './limit-bytes.ts';

const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

describe('limitBytes', () => {
  it('passes a body of up to max bytes', async () => {
    const limit = limitBytes(10, () => new Error('too many'));
    await pipeline(Readable.from([Buffer.alloc(4), Buffer.alloc(6)]), limit, sink());
    expect(limit.bytes).toBe(10);
    expect(limit.tripped).toBe(false);
  });

  it('fails a body past max bytes with its own error and says so', async () => {
    const limit = limitBytes(10, () => new Error('too many'));
    await expect(pipeline(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), limit, sink())).rejects.toThrow(
      'too many',
    );
    expect(limit.tripped).toBe(true);
  });
});
