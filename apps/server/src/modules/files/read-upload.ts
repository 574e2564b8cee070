import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { badPurpose, fileTooLarge } from './file-errors.ts';
import { isUploadPurpose } from './purposes.ts';
import type { FileRow } from './schema.ts';
import type { FileScope, FilesService, PendingUpload } from './service.ts';

const badRequest = (message: string, param: string | null = null) =>
  new AppError('validation_failed', message, undefined, { param });

interface UploadFields {
  purpose?: string;
  anchor?: string;
  seconds?: string;
}

export interface UploadOptions {
  /** whose file it is (default: the API key's project) */
  scope?: FileScope;
  /** the purpose when the body names none (default: none, `purpose` is required) */
  purpose?: string;
}

/**
 * Reads a multipart upload part by part. The file streams to storage as it arrives; fields may come
 * before it (checked before a byte is stored) or after it (the upload is then kept or dropped).
 */
export async function readUpload(
  req: FastifyRequest,
  files: FilesService,
  opts: UploadOptions = {},
): Promise<FileRow> {
  if (!req.isMultipart()) throw badRequest('Expected a multipart/form-data body with `file` and `purpose`.');
  const key = req.principal as KeyPrincipal;
  const scope = opts.scope ?? { orgId: key.orgId, projectId: key.projectId };
  const fields: UploadFields = opts.purpose ? { purpose: opts.purpose } : {};
  let upload: PendingUpload | undefined;
  const parts = req.parts();
  try {
    for (;;) {
      const next = await parts.next().catch((err: unknown) => {
        throw asBodyError(err, files.maxBytes);
      });
      if (next.done) break;
      const part = next.value;
      if (part.type === 'field') {
        readField(fields, part);
        continue;
      }
      if (part.fieldname !== 'file' || upload) {
        part.file.resume();
        throw badRequest(`Unexpected file field '${part.fieldname.slice(0, 64)}'; send one file as 'file'.`);
      }
      if (fields.purpose !== undefined) checkFields(fields);
      const length = Number(req.headers['content-length']);
      upload = await files.begin({
        orgId: scope.orgId,
        projectId: scope.projectId,
        filename: part.filename,
        sizeHint: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
      });
      await upload.write(part.file).catch((err: unknown) => {
        // the body's own failure is the caller's; the storage's is ours (a 500)
        throw err === part.file.errored ? asBodyError(err, files.maxBytes) : err;
      });
    }
    if (!upload) throw badRequest("Missing required parameter: 'file'.", 'file');
    const meta = checkFields(fields);
    return await upload.commit(meta);
  } catch (err) {
    await upload?.abort();
    await parts.return?.(undefined).catch(() => {});
    throw err;
  }
}

function readField(fields: UploadFields, part: Multipart & { type: 'field' }): void {
  if (part.valueTruncated || part.fieldnameTruncated)
    throw badRequest(`Field '${part.fieldname}' is too long.`);
  const value = String(part.value);
  switch (part.fieldname) {
    case 'purpose':
      fields.purpose = value;
      break;
    case 'expires_after[anchor]':
      fields.anchor = value;
      break;
    case 'expires_after[seconds]':
      fields.seconds = value;
      break;
    case 'file':
      throw badRequest("'file' must be a file part (with a filename), not a text field.", 'file');
    default:
      throw badRequest(`Unrecognized request argument supplied: ${part.fieldname.slice(0, 64)}`);
  }
}

function checkFields(fields: UploadFields): { purpose: string; expiresAfterSeconds?: number } {
  if (fields.purpose === undefined) throw badRequest("Missing required parameter: 'purpose'.", 'purpose');
  if (!isUploadPurpose(fields.purpose)) throw badPurpose(fields.purpose);
  if (fields.anchor === undefined && fields.seconds === undefined) return { purpose: fields.purpose };
  if (fields.anchor !== 'created_at') {
    throw badRequest("expires_after[anchor] must be 'created_at'.", 'expires_after[anchor]');
  }
  const seconds = Number(fields.seconds);
  if (
    fields.seconds === undefined ||
    !/^\d+$/.test(fields.seconds) ||
    seconds < 3600 ||
    seconds > 2_592_000
  ) {
    throw badRequest(
      'expires_after[seconds] must be an integer between 3600 and 2592000.',
      'expires_after[seconds]',
    );
  }
  return { purpose: fields.purpose, expiresAfterSeconds: seconds };
}

/** The multipart parser's and the body's own errors are the caller's: OpenAI-style 400s (413 for size). */
function asBodyError(err: unknown, maxBytes: number): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return fileTooLarge(maxBytes);
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return badRequest('Too many parts in the multipart body; send one file and its fields.');
  }
  return badRequest(`Invalid multipart body: ${(err as Error).message}`);
}
