import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyTooLargeError, readBody } from './read-body.ts';

const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('readBody', () => {
  it('joins the chunks of a body', async () => {
    expect((await readBody(chunks('{"a":', '1}'), 100)).toString()).toBe('{"a":1}');
  });

  it('refuses a body over the limit and stops reading it', async () => {
    const body = chunks('x'.repeat(60), 'y'.repeat(60), 'z'.repeat(60));
    await expect(readBody(body, 100)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(body.destroyed).toBe(true);
  });

  it('fails, rather than hanging, when the body is destroyed before its end', async () => {
    const body = new Readable({ read() {} });
    body.push('partial');
    const reading = readBody(body, 100);
    setImmediate(() => body.destroy());
    await expect(reading).rejects.toThrow(/closed before its end/);
  });

  it('passes on the error that ended the body', async () => {
    const body = new Readable({ read() {} });
    const reading = readBody(body, 100);
    setImmediate(() => body.destroy(new Error('socket hang up')));
    await expect(reading).rejects.toThrow('socket hang up');
  });
});
