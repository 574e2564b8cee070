import type { FileRow } from './schema.ts';

/** OpenAI's FileObject, field for field. */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export function toFileObject(row: FileRow): FileObject {
  return {
    id: row.id,
    object: 'file',
    bytes: row.bytes,
    created_at: seconds(row.createdAt),
    expires_at: row.expiresAt ? seconds(row.expiresAt) : null,
    filename: row.filename,
    purpose: row.purpose,
    status: 'processed',
    status_details: null,
  };
}
