import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MediaEndpoint } from '../adapters/types.ts';
import type { GatewayContext } from '../context.ts';
import { mediaBodySchemas } from './media-body.ts';
import { proxyMedia } from './proxy-media.ts';

/** OpenAI's limit on audio uploads, and ours on every upload of one request (images and masks together). */
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

const ROUTES: { path: string; endpoint: MediaEndpoint; summary: string; multipart: boolean }[] = [
  {
    path: '/images/generations',
    endpoint: 'images.generations',
    summary: 'Create images from a prompt (billed per image by size and quality)',
    multipart: false,
  },
  {
    path: '/images/edits',
    endpoint: 'images.edits',
    summary: 'Edit images (multipart/form-data: image or image[], mask, prompt)',
    multipart: true,
  },
  {
    path: '/images/variations',
    endpoint: 'images.variations',
    summary: 'Variations of an image (multipart/form-data: image)',
    multipart: true,
  },
  {
    path: '/audio/speech',
    endpoint: 'audio.speech',
    summary: 'Speak text (binary audio in the upstream content type; billed per character)',
    multipart: false,
  },
  {
    path: '/audio/transcriptions',
    endpoint: 'audio.transcriptions',
    summary:
      'Transcribe audio (multipart/form-data: file; json, text, srt, verbose_json, vtt; billed per second)',
    multipart: true,
  },
  {
    path: '/audio/translations',
    endpoint: 'audio.translations',
    summary: 'Translate audio into English (multipart/form-data: file; billed per second)',
    multipart: true,
  },
];

/** Bodies are validated by the handler (so that refused requests are metered too); the schema documents them. */
const documentOnly = () => (data: unknown) => ({ value: data });

/** /v1/images and /v1/audio, inside the gateway's plugin (its key authentication applies). */
export async function mediaRoutes(
  app: FastifyInstance,
  { gw, maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES }: { gw: GatewayContext; maxUploadBytes?: number },
) {
  await app.register(multipart, {
    // filenames are data passed on to the upstream; they never name anything on disk
    preservePath: true,
    throwFileSizeLimit: true,
    limits: {
      fileSize: maxUploadBytes,
      files: 17,
      fields: 64,
      fieldSize: 160 * 1024,
      parts: 100,
      headerPairs: 32,
    },
  });
  const tags = ['openai'];
  const security = [{ bearer: [] }];
  for (const { path, endpoint, summary, multipart: isMultipart } of ROUTES) {
    app.post(
      path,
      {
        schema: isMultipart
          ? { tags, security, summary, consumes: ['multipart/form-data'] }
          : { tags, security, summary, body: mediaBodySchemas[endpoint] },
        validatorCompiler: documentOnly,
      },
      (req: FastifyRequest, reply: FastifyReply) => proxyMedia(gw, req, reply, endpoint, maxUploadBytes),
    );
  }
}
