import { z } from 'zod';

/**
 * The fields of the image and audio endpoints that maas acts on, as OpenAI documents them; other
 * fields pass through to the upstream untouched. Multipart fields arrive as strings: numbers there
 * are coerced.
 */
const model = z.string().min(1).max(256);

/** Every size an OpenAI image model accepts (dall-e-2, dall-e-3, gpt-image-1), and `auto`. */
export const IMAGE_SIZES = [
  '256x256',
  '512x512',
  '1024x1024',
  '1792x1024',
  '1024x1792',
  '1536x1024',
  '1024x1536',
  'auto',
] as const;
export const IMAGE_QUALITIES = ['standard', 'hd', 'low', 'medium', 'high', 'auto'] as const;

const imageCommon = {
  model,
  n: z.coerce.number().int().min(1).max(10).nullish(),
  size: z.enum(IMAGE_SIZES).nullish(),
  response_format: z.enum(['url', 'b64_json']).nullish(),
  stream: z.literal(false, { message: 'streamed image generation is not supported' }).nullish(),
};

export const imageGenerationBody = z.looseObject({
  ...imageCommon,
  prompt: z.string().min(1).max(32_000),
  quality: z.enum(IMAGE_QUALITIES).nullish(),
});

export const imageEditFields = z.looseObject({
  ...imageCommon,
  prompt: z.string().min(1).max(32_000),
  quality: z.enum(IMAGE_QUALITIES).nullish(),
});

export const imageVariationFields = z.looseObject(imageCommon);

export const speechBody = z.looseObject({
  model,
  input: z.string().min(1).max(4096),
  voice: z.union([z.string().min(1).max(64), z.looseObject({ id: z.string() })]),
  response_format: z.enum(['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm']).nullish(),
  speed: z.number().min(0.25).max(4).nullish(),
  stream_format: z.enum(['audio']).nullish(),
});

export const TRANSCRIPT_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const;

export const transcriptionFields = z.looseObject({
  model,
  response_format: z.enum(TRANSCRIPT_FORMATS).nullish(),
  temperature: z.coerce.number().min(0).max(1).nullish(),
  stream: z.enum(['false'], { message: 'streamed transcription is not supported' }).nullish(),
});

export const mediaBodySchemas = {
  'images.generations': imageGenerationBody,
  'images.edits': imageEditFields,
  'images.variations': imageVariationFields,
  'audio.speech': speechBody,
  'audio.transcriptions': transcriptionFields,
  'audio.translations': transcriptionFields,
};
