import { Transform } from 'node:stream';

/**
 * Passes bytes through until more than `max` have gone by, then fails with `tooMany()`. `tripped`
 * tells afterwards whether it was this limit (and not the source or the sink) that stopped a body.
 */
export function limitBytes(
  max: number,
  tooMany: () => Error,
): Transform & { tripped: boolean; bytes: number } {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      stream.bytes += chunk.length;
      if (stream.bytes > max) {
        stream.tripped = true;
        done(tooMany());
        return;
      }
      done(null, chunk);
    },
  }) as Transform & { tripped: boolean; bytes: number };
  stream.tripped = false;
  stream.bytes = 0;
  return stream;
}
