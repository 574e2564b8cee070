import { AppError } from '../../http/app-error.ts';
import { EXPIRES_AFTER_MAX_S, EXPIRES_AFTER_MIN_S, UPLOAD_PURPOSES } from './purposes.ts';

const MAX_FILENAME = 1024;

export const fileTooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `File exceeds the maximum size of ${maxBytes} bytes.`, undefined, {
    param: 'file',
  });

export const fileNotFound = (id: string) =>
  new AppError('not_found', `No such File object: ${id.slice(0, 100)}`, undefined, { param: 'id' });

export const storageQuotaExceeded = (quotaBytes: number) =>
  new AppError(
    'storage_quota_exceeded',
    `This upload would exceed your organization's file storage quota of ${quotaBytes} bytes. Delete files you no longer need.`,
    undefined,
    { param: 'file' },
  );

export function badPurpose(purpose: string): AppError {
  return new AppError(
    'validation_failed',
    `'${purpose.slice(0, 100)}' is not one of [${UPLOAD_PURPOSES.map((p) => `'${p}'`).join(', ')}] - 'purpose'`,
    undefined,
    { param: 'purpose' },
  );
}

export function checkExpiresAfter(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < EXPIRES_AFTER_MIN_S || seconds > EXPIRES_AFTER_MAX_S) {
    throw new AppError(
      'validation_failed',
      `expires_after[seconds] must be an integer between ${EXPIRES_AFTER_MIN_S} and ${EXPIRES_AFTER_MAX_S}.`,
      undefined,
      { param: 'expires_after[seconds]' },
    );
  }
}

/** A filename is data: kept as given (a path, dots and all), only NUL replaced (PostgreSQL text has none). */
export function checkFilename(name: string): string {
  const clean = name.replaceAll('\u0000', '\uFFFD');
  if (clean.length > MAX_FILENAME) {
    throw new AppError(
      'validation_failed',
      `filename must be at most ${MAX_FILENAME} characters.`,
      undefined,
      {
        param: 'file',
      },
    );
  }
  return clean;
}
