import { createReadStream } from 'node:fs';
import type { MediaUsage } from '../../metering/index.ts';
import type { MediaEndpoint } from '../adapters/types.ts';
import { mediaBodySchemas } from './media-body.ts';
import { NO_UNITS } from './media-call.ts';
import { badRequest, type MediaFile } from './read-media-form.ts';

/** The priced variant of an image request: `size:quality`, OpenAI's defaults when not given. */
export function imageVariant(fields: { size?: string | null; quality?: string | null }): string {
  return `${fields.size ?? '1024x1024'}:${fields.quality ?? 'standard'}`;
}

/** Characters of text to speak, as people count them (code points, not UTF-16 units). */
export const characterCount = (text: string) => [...text].length;

/**
 * The duration of an uploaded audio file in ms, read from its spooled copy (music-metadata: wav, mp3,
 * m4a, ogg, flac, webm …). A file whose duration cannot be read is refused: it could not be metered.
 */
export async function audioDurationMs(file: MediaFile): Promise<number> {
  let seconds: number | undefined;
  const { parseStream } = await import('music-metadata'); // loaded by the first audio upload, not at start
  const stream = createReadStream(file.path);
  try {
    const meta = await parseStream(
      stream,
      { mimeType: file.contentType, size: file.size, path: file.filename },
      { duration: true, skipCovers: true },
    );
    seconds = meta.format.duration;
  } catch {
    seconds = undefined;
  } finally {
    stream.destroy();
  }
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0)
    throw badRequest(
      'The audio file could not be decoded or its format is not supported. Supported formats: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm.',
      'file',
    );
  return Math.round(seconds * 1000);
}

/**
 * The units a validated request will use at most: n images of its size and quality; its
 * characters; the seconds of its audio. Admission reserves their cost; the answer settles it.
 */
export async function estimateUnits(
  endpoint: MediaEndpoint,
  body: Record<string, unknown>,
  files: MediaFile[],
): Promise<MediaUsage> {
  switch (endpoint) {
    case 'images.generations':
    case 'images.edits':
    case 'images.variations': {
      const f = mediaBodySchemas[endpoint].parse(body) as {
        n?: number | null;
        size?: string | null;
        quality?: string | null;
      };
      return { ...NO_UNITS, images: f.n ?? 1, imageSize: imageVariant(f) };
    }
    case 'audio.speech':
      return { ...NO_UNITS, characters: characterCount(String(body.input)) };
    case 'audio.transcriptions':
    case 'audio.translations':
      return { ...NO_UNITS, audioMs: await audioDurationMs(files[0]!) };
  }
}
