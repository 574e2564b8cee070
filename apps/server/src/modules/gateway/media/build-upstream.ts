import { openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { MediaEndpoint, UpstreamRequest } from '../adapters/types.ts';
import type { MediaFile } from './read-media-form.ts';

/** OpenAI's paths, under the provider's base path (every OpenAI-compatible server uses them). */
export const MEDIA_PATHS: Record<MediaEndpoint, string> = {
  'images.generations': '/images/generations',
  'images.edits': '/images/edits',
  'images.variations': '/images/variations',
  'audio.speech': '/audio/speech',
  'audio.transcriptions': '/audio/transcriptions',
  'audio.translations': '/audio/translations',
};

/** A JSON body under the target's model name. */
export function jsonRequest(
  endpoint: MediaEndpoint,
  body: Record<string, unknown>,
  upstreamModel: string,
  basePath: string,
): UpstreamRequest {
  return { path: basePath + MEDIA_PATHS[endpoint], body: JSON.stringify({ ...body, model: upstreamModel }) };
}

/**
 * A multipart body for the upstream: the client's fields (lists as `name[]`, as the openai SDK
 * sends them), the target's model name, then the files, streamed from their spooled copies (never
 * whole in memory). Encoded by the platform's own FormData (undici), which escapes names and picks
 * the boundary.
 */
export async function multipartRequest(
  endpoint: MediaEndpoint,
  body: Record<string, unknown>,
  files: MediaFile[],
  upstreamModel: string,
  basePath: string,
): Promise<UpstreamRequest> {
  const form = new FormData();
  for (const [name, value] of Object.entries(body)) {
    if (name === 'model' || value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) form.append(`${name}[]`, String(v));
    else form.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  form.append('model', upstreamModel);
  const many = new Set(
    files.filter((f, i) => files.findIndex((g) => g.field === f.field) !== i).map((f) => f.field),
  );
  for (const f of files) {
    const blob = await openAsBlob(f.path, { type: f.contentType });
    form.append(many.has(f.field) ? `${f.field}[]` : f.field, blob, f.filename);
  }
  const encoded = new Response(form);
  const contentType = encoded.headers.get('content-type')!;
  return {
    path: basePath + MEDIA_PATHS[endpoint],
    body: Readable.fromWeb(encoded.body as WebReadableStream<Uint8Array>),
    contentType,
  };
}
