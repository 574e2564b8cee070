/** Purposes a caller may upload with (OpenAI's list). */
export const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;
/** … and those maas itself writes (a batch's output and error files, a fine-tuning job's adapter and checkpoints). */
export const FILE_PURPOSES = [...UPLOAD_PURPOSES, 'batch_output', 'fine-tune-results'] as const;

export type UploadPurpose = (typeof UPLOAD_PURPOSES)[number];
export type FilePurpose = (typeof FILE_PURPOSES)[number];

/** `expires_after[seconds]` bounds: one hour to thirty days, as OpenAI. */
export const EXPIRES_AFTER_MIN_S = 3600;
export const EXPIRES_AFTER_MAX_S = 30 * 86_400;
/** Files with purpose `batch` expire after thirty days unless told otherwise (OpenAI's default). */
export const DEFAULT_EXPIRY_S: Partial<Record<FilePurpose, number>> = { batch: 30 * 86_400 };

export function isUploadPurpose(value: string): value is UploadPurpose {
  return (UPLOAD_PURPOSES as readonly string[]).includes(value);
}

export function isFilePurpose(value: string): value is FilePurpose {
  return (FILE_PURPOSES as readonly string[]).includes(value);
}
