import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyWav } from '@maas/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { mediaCostNanos, type PriceRow } from '../../metering/index.ts';
import { audioDurationMs, characterCount, estimateUnits, imageVariant } from './media-units.ts';

const price = (over: Partial<PriceRow>): PriceRow =>
  ({
    imageNanos: {},
    audioSecondNanos: 0,
    characterNanos: 0,
    ...over,
  }) as PriceRow;

const dir = mkdtempSync(join(tmpdir(), 'media-units-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** An uploaded file as readMediaForm leaves it: spooled to a file of its own. */
function spooled(data: Buffer) {
  const path = join(dir, String(n++));
  writeFileSync(path, data);
  return { field: 'file', filename: 'a.wav', contentType: 'audio/wav', path, size: data.length };
}
const wav = (seconds: number) => spooled(tinyWav(seconds));

describe('media units', () => {
  it('names the priced variant of an image request with OpenAI defaults', () => {
    expect(imageVariant({})).toBe('1024x1024:standard');
    expect(imageVariant({ size: '512x512', quality: 'hd' })).toBe('512x512:hd');
  });

  it('prices images by size:quality, then size, then *, and audio by the ms', () => {
    const p = price({
      imageNanos: { '1024x1024:hd': 80, '1024x1024': 40, '*': 10 },
      audioSecondNanos: 1000,
      characterNanos: 3,
    });
    const units = { images: 2, imageSize: '1024x1024:hd', audioMs: 0, characters: 0 };
    expect(mediaCostNanos(p, units)).toBe(160);
    expect(mediaCostNanos(p, { ...units, imageSize: '1024x1024:standard' })).toBe(80);
    expect(mediaCostNanos(p, { ...units, imageSize: '256x256:standard' })).toBe(20);
    expect(mediaCostNanos(p, { images: 0, imageSize: null, audioMs: 1500, characters: 7 })).toBe(1521);
    expect(mediaCostNanos(price({}), units)).toBe(0);
  });

  it('counts characters as code points', () => {
    expect(characterCount('你好 👋')).toBe(4);
  });

  it('reads the duration of a WAV and refuses bytes that are not audio', async () => {
    expect(await audioDurationMs(wav(2.5))).toBe(2500);
    const noise = spooled(Buffer.from('not audio at all, just text'.repeat(20)));
    await expect(audioDurationMs(noise)).rejects.toMatchObject({ status: 400, param: 'file' });
  });

  it('estimates every endpoint in its own unit', async () => {
    expect(
      await estimateUnits('images.edits', { model: 'm', prompt: 'p', n: '3', size: '512x512' }, []),
    ).toEqual({
      images: 3,
      imageSize: '512x512:standard',
      audioMs: 0,
      characters: 0,
    });
    expect((await estimateUnits('audio.speech', { input: 'héllo' }, [])).characters).toBe(5);
    expect((await estimateUnits('audio.translations', { model: 'm' }, [wav(1)])).audioMs).toBe(1000);
  });
});
