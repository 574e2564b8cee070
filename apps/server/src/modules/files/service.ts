import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { and, asc, desc, eq, gt, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { monotonicFactory } from 'ulid';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import { projects } from '../identity/schema.ts';
import {
  badPurpose,
  checkExpiresAfter,
  checkFilename,
  fileNotFound,
  fileTooLarge,
  storageQuotaExceeded,
} from './file-errors.ts';
import { limitBytes } from './limit-bytes.ts';
import { DEFAULT_EXPIRY_S, isFilePurpose } from './purposes.ts';
import { adjustUsage, reserveQuota } from './quota.ts';
import { type FileRow, files } from './schema.ts';
import { type ByteRange, type FileStorage, StoredObjectMissingError } from './storage/types.ts';

export interface FileScope {
  orgId: string;
  projectId: string;
}

export interface CreateFileInput extends FileScope {
  purpose: string;
  filename: string;
  body: Readable;
  expiresAfterSeconds?: number | undefined;
  /** an upper bound of the body's length when known (a request's Content-Length): reserves less quota */
  sizeHint?: number | undefined;
}

/** An upload in two steps, for multipart bodies that may name their purpose after the file. */
export interface PendingUpload {
  readonly id: string;
  /**
   * streams the bytes to storage, within the size limit and the quota reserved by `begin`; when the
   * body itself fails, that error (`body.errored`) is what it throws
   */
  write(body: Readable): Promise<number>;
  /** makes the file visible; validation errors leave the upload to `abort` */
  commit(meta: { purpose: string; expiresAfterSeconds?: number | undefined }): Promise<FileRow>;
  /** removes whatever was written and gives the reservation back */
  abort(): Promise<void>;
}

export interface ListFilesQuery {
  purpose?: string | undefined;
  limit: number;
  order: 'asc' | 'desc';
  after?: string | undefined;
}

export interface FilesService {
  readonly storage: FileStorage;
  /** the size limit per file */
  readonly maxBytes: number;
  create(input: CreateFileInput): Promise<FileRow>;
  begin(input: FileScope & { filename: string; sizeHint?: number | undefined }): Promise<PendingUpload>;
  /** 404 AppError when absent, expired or another project's */
  get(scope: FileScope, id: string): Promise<FileRow>;
  open(scope: FileScope, id: string, range?: ByteRange): Promise<{ row: FileRow; body: Readable }>;
  remove(scope: FileScope, id: string): Promise<void>;
  list(scope: FileScope, query: ListFilesQuery): Promise<{ rows: FileRow[]; hasMore: boolean }>;
  /** deletes expired files, files of deleted projects, and what failed uploads and deletes left behind */
  sweep(): Promise<{ deleted: number }>;
  start(): void;
  stop(): Promise<void>;
}

export interface FilesServiceDeps {
  db: Db;
  storage: FileStorage;
  log: Logger;
  /** per file (OpenAI: 512 MB) */
  maxBytes: number;
  /** per org, all its files together */
  orgQuotaBytes: number;
  /** how often the sweeper runs (0: never on its own) */
  sweepIntervalMs?: number;
  /** an upload not finished after this long is abandoned (a crash mid-upload) */
  staleUploadMs?: number;
  now?: () => number;
}

const FILE_ID = /^file-[0-9a-z]{26}$/;
const SWEEP_BATCH = 200;

export function createFilesService(deps: FilesServiceDeps): FilesService {
  const { db, storage, log, maxBytes, orgQuotaBytes } = deps;
  const now = deps.now ?? Date.now;
  const staleUploadMs = deps.staleUploadMs ?? 24 * 3_600_000;
  const nextUlid = monotonicFactory();
  const newFileId = () => `file-${nextUlid().toLowerCase()}`;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  const visible = (scope: FileScope): SQL =>
    and(
      eq(files.orgId, scope.orgId),
      eq(files.projectId, scope.projectId),
      eq(files.status, 'processed'),
      or(isNull(files.expiresAt), gt(files.expiresAt, new Date(now()))),
    )!;

  const tooLarge = () => fileTooLarge(maxBytes);
  const quotaExceeded = () => storageQuotaExceeded(orgQuotaBytes);

  /** The bytes go, then the row and its share of the quota (in one transaction). Idempotent. */
  async function finishDelete(id: string): Promise<boolean> {
    await storage.delete(id);
    return db.transaction(async (tx) => {
      const [gone] = await tx
        .delete(files)
        .where(eq(files.id, id))
        .returning({ orgId: files.orgId, reserved: files.reservedBytes });
      if (gone) await adjustUsage(tx, gone.orgId, -gone.reserved);
      return Boolean(gone);
    });
  }

  async function begin(input: FileScope & { filename: string; sizeHint?: number | undefined }) {
    const filename = checkFilename(input.filename);
    const id = newFileId();
    const want = Math.min(input.sizeHint ?? maxBytes, maxBytes);
    const granted = await db.transaction(async (tx) => {
      const got = want === 0 ? 0 : await reserveQuota(tx, input.orgId, want, orgQuotaBytes);
      if (want > 0 && got === 0) throw quotaExceeded();
      await tx.insert(files).values({
        id,
        orgId: input.orgId,
        projectId: input.projectId,
        purpose: '',
        filename,
        bytes: 0,
        reservedBytes: got,
        status: 'uploading',
        createdAt: new Date(now()),
      });
      return got;
    });
    let written = 0;
    let settled = false;
    const pending: PendingUpload = {
      id,
      async write(body) {
        const limited = limitBytes(granted, () => (granted >= maxBytes ? tooLarge() : quotaExceeded()));
        const feeding = pipeline(body, limited);
        // the storage failing stops the body with a marker, so that the body's own failures (a
        // truncated multipart body, a client gone) stay told apart from the storage's
        const storageFailed = new Error('storage failed');
        const putting = storage.put(id, limited).catch((err: unknown) => {
          limited.destroy(storageFailed);
          throw err;
        });
        const [fed, put] = await Promise.allSettled([feeding, putting]);
        if (limited.tripped) throw granted >= maxBytes ? tooLarge() : quotaExceeded();
        if (body.errored && body.errored !== storageFailed) throw body.errored;
        if (put.status === 'rejected') throw put.reason;
        if (fed.status === 'rejected') throw fed.reason;
        written = put.value.bytes;
        return written;
      },
      async commit(meta) {
        if (!isFilePurpose(meta.purpose)) throw badPurpose(meta.purpose);
        const expiresAfter = meta.expiresAfterSeconds ?? DEFAULT_EXPIRY_S[meta.purpose];
        if (meta.expiresAfterSeconds !== undefined) checkExpiresAfter(meta.expiresAfterSeconds);
        const row = await db.transaction(async (tx) => {
          const [current] = await tx.select().from(files).where(eq(files.id, id)).for('update');
          if (current?.status !== 'uploading') throw new Error(`upload ${id} is gone`);
          const [done] = await tx
            .update(files)
            .set({
              purpose: meta.purpose,
              status: 'processed',
              bytes: written,
              reservedBytes: written,
              expiresAt:
                expiresAfter === undefined
                  ? null
                  : new Date(current.createdAt.getTime() + expiresAfter * 1000),
            })
            .where(eq(files.id, id))
            .returning();
          await adjustUsage(tx, input.orgId, written - current.reservedBytes);
          return done!;
        });
        settled = true;
        return row;
      },
      async abort() {
        if (settled) return;
        settled = true;
        await finishDelete(id).catch((err: unknown) =>
          log.warn({ err, file: id }, 'could not remove an aborted upload; the sweeper will'),
        );
      },
    };
    return pending;
  }

  async function get(scope: FileScope, id: string): Promise<FileRow> {
    if (!FILE_ID.test(id)) throw fileNotFound(id);
    const [row] = await db
      .select()
      .from(files)
      .where(and(eq(files.id, id), visible(scope)));
    if (!row) throw fileNotFound(id);
    return row;
  }

  async function sweep(): Promise<{ deleted: number }> {
    const at = new Date(now());
    const expired = await db
      .update(files)
      .set({ status: 'deleting' })
      .where(
        sql`${files.id} in (select ${files.id} from ${files} where ${files.status} = 'processed' and ${files.expiresAt} <= ${at} limit ${SWEEP_BATCH})`,
      )
      .returning({ id: files.id });
    // files of a deleted project (or org): their rows stayed behind for this
    const orphaned = await db
      .update(files)
      .set({ status: 'deleting' })
      .where(
        sql`${files.id} in (select f.id from ${files} f where f.status = 'processed' and not exists (select 1 from ${projects} p where p.id = f.project_id) limit ${SWEEP_BATCH})`,
      )
      .returning({ id: files.id });
    const leftovers = await db
      .select({ id: files.id })
      .from(files)
      .where(
        or(
          eq(files.status, 'deleting'),
          and(eq(files.status, 'uploading'), lte(files.createdAt, new Date(at.getTime() - staleUploadMs))),
        ),
      )
      .limit(SWEEP_BATCH);
    const ids = new Set([...expired, ...orphaned, ...leftovers].map((r) => r.id));
    let deleted = 0;
    for (const id of ids) {
      try {
        if (await finishDelete(id)) deleted += 1;
      } catch (err) {
        log.warn({ err, file: id }, 'could not delete a file; will try again');
      }
    }
    await storage.sweepPartials?.(staleUploadMs);
    if (deleted > 0) log.info({ deleted }, 'files swept');
    return { deleted };
  }

  return {
    storage,
    maxBytes,
    begin,
    get,
    sweep,

    async create(input) {
      if (!isFilePurpose(input.purpose)) throw badPurpose(input.purpose);
      if (input.expiresAfterSeconds !== undefined) checkExpiresAfter(input.expiresAfterSeconds);
      const upload = await begin(input);
      try {
        await upload.write(input.body);
        return await upload.commit(input);
      } catch (err) {
        await upload.abort();
        throw err;
      }
    },

    async open(scope, id, range) {
      const row = await get(scope, id);
      try {
        return { row, body: await storage.get(row.id, range) };
      } catch (err) {
        if (!(err instanceof StoredObjectMissingError)) throw err;
        log.error({ file: row.id }, 'a file has a row but no stored bytes');
        throw fileNotFound(id);
      }
    },

    async remove(scope, id) {
      if (!FILE_ID.test(id)) throw fileNotFound(id);
      const [row] = await db
        .update(files)
        .set({ status: 'deleting' })
        .where(and(eq(files.id, id), visible(scope)))
        .returning({ id: files.id });
      if (!row) throw fileNotFound(id);
      await finishDelete(row.id).catch((err: unknown) =>
        // gone for the caller already; the sweeper finishes the job
        log.warn({ err, file: row.id }, 'could not delete a file now; the sweeper will'),
      );
    },

    async list(scope, query) {
      if (query.after !== undefined && !FILE_ID.test(query.after)) {
        throw new AppError('validation_failed', `Invalid 'after': ${query.after.slice(0, 100)}`, undefined, {
          param: 'after',
        });
      }
      const conds = [visible(scope)];
      if (query.purpose) conds.push(eq(files.purpose, query.purpose));
      if (query.after)
        conds.push(query.order === 'asc' ? gt(files.id, query.after) : lt(files.id, query.after));
      const rows = await db
        .select()
        .from(files)
        .where(and(...conds))
        .orderBy(query.order === 'asc' ? asc(files.id) : desc(files.id))
        .limit(query.limit + 1);
      return { rows: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
    },

    start() {
      const every = deps.sweepIntervalMs ?? 60_000;
      if (every <= 0 || timer) return;
      timer = setInterval(() => {
        sweeping ??= sweep()
          .catch((err: unknown) => log.error({ err }, 'file sweep failed'))
          .finally(() => {
            sweeping = undefined;
          });
      }, every);
      timer.unref();
    },

    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
      await storage.close();
    },
  };
}
