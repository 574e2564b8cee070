import { bigint, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from '../identity/schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `uploading` holds a quota reservation; `deleting` waits for its bytes to go (the sweeper finishes it). */
export type FileStatus = 'uploading' | 'processed' | 'deleting';

/**
 * Files of the OpenAI-compatible /v1/files API. The storage key is the id: a filename is data only,
 * never part of a path. Rows whose project is gone are swept like expired ones. `reserved_bytes` is what this row holds of its org's quota (the upload's
 * reservation while `uploading`, then its size) and always adds up to `file_storage_usage.bytes`.
 */
export const files = pgTable(
  'files',
  {
    id: text('id').primaryKey(),
    // No foreign keys on purpose: a deleted project's or org's rows must outlive it until the
    // sweeper has removed their bytes and given their quota back (a cascade would orphan both).
    orgId: text('org_id').notNull(),
    projectId: text('project_id').notNull(),
    /** empty while uploading: a multipart body may name its purpose after the file */
    purpose: text('purpose').notNull(),
    filename: text('filename').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    reservedBytes: bigint('reserved_bytes', { mode: 'number' }).notNull(),
    status: text('status').$type<FileStatus>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at'),
  },
  (t) => [
    index('files_project_idx').on(t.projectId, t.id),
    index('files_org_idx').on(t.orgId),
    index('files_expires_idx').on(t.expiresAt),
    index('files_status_idx').on(t.status, t.createdAt),
  ],
);

/** Bytes each org holds in files (uploads in flight included): the quota is checked against this row. */
export const fileStorageUsage = pgTable('file_storage_usage', {
  orgId: text('org_id')
    .primaryKey()
    .references(() => orgs.id, { onDelete: 'cascade' }),
  bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
});

export type FileRow = typeof files.$inferSelect;
