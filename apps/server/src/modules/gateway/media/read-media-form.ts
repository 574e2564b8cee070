import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../http/app-error.ts';

/** An uploaded file, held in memory (bounded by the upload limit) so a retry or fallback can resend it. */
export interface MediaFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MediaForm {
  fields: Record<string, string | string[]>;
  files: MediaFile[];
}

export const badRequest = (message: string, param: string | null = null) =>
  new AppError('validation_failed', message, undefined, { param });

export const tooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `The upload exceeds the maximum size of ${maxBytes} bytes.`, undefined, {
    param: 'file',
  });

/**
 * Reads a multipart body: text fields (a repeated or `name[]` field becomes a list) and the files
 * named in `fileFields`, each and all together at most `maxBytes` (413 beyond, and the rest of the
 * body is not read). Nothing is written anywhere: the parts live in memory until the request ends.
 */
export async function readMediaForm(
  req: FastifyRequest,
  fileFields: ReadonlySet<string>,
  maxBytes: number,
): Promise<MediaForm> {
  if (!req.isMultipart()) throw badRequest('Expected a multipart/form-data body.');
  const form: MediaForm = { fields: {}, files: [] };
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
      const data = await part.toBuffer().catch((err: unknown) => {
        throw asBodyError(err, maxBytes);
      });
      total += data.length;
      if (total > maxBytes) throw tooLarge(maxBytes);
      form.files.push({
        field: part.fieldname.replace(/\[\]$/, ''),
        filename: part.filename || 'file',
        contentType: part.mimetype || 'application/octet-stream',
        data,
      });
    }
  } catch (err) {
    await parts.return?.(undefined).catch(() => {});
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
