import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../http/app-error.ts';

/**
 * An uploaded file, spooled to a private temporary file (0600 in a 0700 directory) as it arrives, so
 * that each attempt (a retry, a fallback) streams it to its upstream again without holding it in memory.
 */
export interface MediaFile {
  field: string;
  /** the client's name for it: data passed on to the upstream, never part of `path` */
  filename: string;
  contentType: string;
  path: string;
  size: number;
}

export interface MediaForm {
  fields: Record<string, string | string[]>;
  files: MediaFile[];
  /** removes the spooled files (call once the request ended, however it ended) */
  dispose(): Promise<void>;
}

export const badRequest = (message: string, param: string | null = null) =>
  new AppError('validation_failed', message, undefined, { param });

export const tooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `The upload exceeds the maximum size of ${maxBytes} bytes.`, undefined, {
    param: 'file',
  });

/**
 * Reads a multipart body: text fields (a repeated or `name[]` field becomes a list) and the files
 * named in `fileFields`, each and all together at most `maxBytes` (413 beyond: the rest of the body
 * is not read and what was spooled is removed). Files stream to a temporary directory of their own.
 */
export async function readMediaForm(
  req: FastifyRequest,
  fileFields: ReadonlySet<string>,
  maxBytes: number,
): Promise<MediaForm> {
  if (!req.isMultipart()) throw badRequest('Expected a multipart/form-data body.');
  let dir: string | null = null;
  const form: MediaForm = {
    fields: {},
    files: [],
    async dispose() {
      if (dir) await rm(dir, { recursive: true, force: true });
      dir = null;
    },
  };
  let total = 0;
  const parts = req.parts();
  try {
    for (;;) {
      const next = await parts.next().catch((err: unknown) => {
        throw asBodyError(err, maxBytes);
      });
      if (next.done) break;
      const part = next.value;
      if (part.type === 'field') {
        if (part.valueTruncated || part.fieldnameTruncated)
          throw badRequest(
            `Field '${part.fieldname.slice(0, 64)}' is too long.`,
            part.fieldname.slice(0, 64),
          );
        addField(form.fields, part.fieldname, String(part.value));
        continue;
      }
      if (!fileFields.has(part.fieldname)) {
        part.file.resume();
        throw badRequest(
          `Unexpected file field '${part.fieldname.slice(0, 64)}'; expected ${[...fileFields].join(', ')}.`,
          part.fieldname.slice(0, 64),
        );
      }
      dir ??= await mkdtemp(join(tmpdir(), 'maas-media-'));
      const path = join(dir, String(form.files.length));
      let size = 0;
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          done(total + size > maxBytes ? tooLarge(maxBytes) : null, chunk);
        },
      });
      await pipeline(part.file, count, createWriteStream(path, { flags: 'wx', mode: 0o600 })).catch(
        (err: unknown) => {
          throw asBodyError(err, maxBytes);
        },
      );
      total += size;
      form.files.push({
        field: part.fieldname.replace(/\[\]$/, ''),
        filename: part.filename || 'file',
        contentType: part.mimetype || 'application/octet-stream',
        path,
        size,
      });
    }
  } catch (err) {
    await parts.return?.(undefined).catch(() => {});
    await form.dispose();
    throw err;
  }
  return form;
}

function addField(fields: Record<string, string | string[]>, name: string, value: string): void {
  const list = name.endsWith('[]');
  const key = list ? name.slice(0, -2) : name;
  const had = fields[key];
  if (had === undefined) fields[key] = list ? [value] : value;
  else fields[key] = Array.isArray(had) ? [...had, value] : [had, value];
}

/** The multipart parser's errors are the caller's: 413 for size, 400 otherwise. */
function asBodyError(err: unknown, maxBytes: number): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(maxBytes);
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT')
    return badRequest('Too many parts in the multipart body.');
  return badRequest(`Invalid multipart body: ${(err as Error).message}`);
}
