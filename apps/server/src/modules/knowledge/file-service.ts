import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { jobs as jobRows } from '../jobs/index.ts';
import { addCount, emptyCounts, toFileBatchObject, toVectorStoreFileObject } from './dto.ts';
import { batchNotFound, storeFileNotFound } from './errors.ts';
import { newBatchId } from './ids.ts';
import { enqueueIngest } from './ingest/enqueue.ts';
import { listPage, pageOf } from './page.ts';
import type { Payer } from './payer.ts';
import type { KnowledgeDeps, Scope } from './ports.ts';
import {
  type Attributes,
  knowledgeChunks,
  type StaticChunking,
  type VectorStoreFileRow,
  type VectorStoreFileStatus,
  type VectorStoreRow,
  vectorStoreFileBatches,
  vectorStoreFiles,
} from './schema.ts';
import { type ChunkingStrategyInput, type ListQuery, toStaticChunking } from './wire.ts';

export interface FileToAdd {
  file_id: string;
  /** set by `resolve` (from /v1/files), before the transaction that adds the files */
  filename?: string;
  attributes?: Attributes | null | undefined;
  chunking_strategy?: ChunkingStrategyInput | undefined;
}

/** Files of vector stores and file batches; each added file is one ingestion job. */
export function createFileService(deps: KnowledgeDeps) {
  const { db } = deps;
  const fileKey = (storeId: string, fileId: string) =>
    and(eq(vectorStoreFiles.storeId, storeId), eq(vectorStoreFiles.fileId, fileId));

  async function getRow(scope: Scope, storeId: string, fileId: string, tx: DbOrTx = db) {
    const [row] = await tx
      .select()
      .from(vectorStoreFiles)
      .where(
        and(
          fileKey(storeId, fileId),
          eq(vectorStoreFiles.orgId, scope.orgId),
          eq(vectorStoreFiles.projectId, scope.projectId),
        ),
      );
    if (!row) throw storeFileNotFound(storeId, fileId);
    return row;
  }

  /** Cancels a file's ingestion: its row first (the job's last step checks it), then its job. */
  async function cancelJobs(jobIds: (string | null)[]) {
    for (const id of jobIds) if (id) await deps.jobs.cancel(id).catch(() => null);
  }

  async function dropChunks(tx: DbOrTx, storeId: string, fileId?: string) {
    const ids = await deps.vectors.chunkIdsOf(tx, storeId, fileId);
    if (ids.length > 0) await deps.lexical?.removeChunkTerms(tx, storeId, ids);
  }

  /** Removes every chunk of the store (and its terms); the files stay, holding nothing. */
  async function clearChunks(tx: DbOrTx, storeId: string) {
    const held = await tx
      .select({ fileId: vectorStoreFiles.fileId })
      .from(vectorStoreFiles)
      .where(eq(vectorStoreFiles.storeId, storeId));
    for (const { fileId } of held) {
      const old = await deps.vectors.replaceFileChunks(tx, storeId, fileId, []);
      if (old.length > 0) await deps.lexical?.removeChunkTerms(tx, storeId, old);
    }
    await tx
      .update(vectorStoreFiles)
      .set({ chunkCount: 0, usageBytes: 0 })
      .where(eq(vectorStoreFiles.storeId, storeId));
  }

  const service = {
    clearChunks,
    /** The files' names from /v1/files (404 for one absent or another project's), outside any transaction. */
    async resolve(scope: Scope, list: FileToAdd[]): Promise<FileToAdd[]> {
      const out: FileToAdd[] = [];
      for (const item of list)
        out.push({ ...item, filename: (await deps.files.get(scope, item.file_id)).filename });
      return out;
    },

    /** Adds files to a store (new rows or a re-add of one already there) and queues their ingestion. */
    async add(
      tx: DbOrTx,
      store: VectorStoreRow,
      payer: Payer,
      list: FileToAdd[],
      defaults: { chunking?: StaticChunking; attributes?: Attributes | null; batchId?: string } = {},
    ): Promise<VectorStoreFileRow[]> {
      const rows: VectorStoreFileRow[] = [];
      for (const item of list) {
        const file = { id: item.file_id, filename: item.filename ?? item.file_id };
        const chunking = item.chunking_strategy
          ? toStaticChunking(item.chunking_strategy)
          : (defaults.chunking ?? store.chunking);
        const values = {
          storeId: store.id,
          fileId: file.id,
          orgId: store.orgId,
          projectId: store.projectId,
          filename: file.filename,
          attributes: item.attributes ?? defaults.attributes ?? {},
          chunking,
          status: 'in_progress' as const,
          lastError: null,
          stages: {},
          generation: store.generation,
          batchId: defaults.batchId ?? null,
          updatedAt: new Date(),
        };
        const [row] = await tx
          .insert(vectorStoreFiles)
          .values(values)
          .onConflictDoUpdate({ target: [vectorStoreFiles.storeId, vectorStoreFiles.fileId], set: values })
          .returning();
        const jobId = await enqueueIngest(deps.jobs, tx, store.orgId, {
          store_id: store.id,
          file_id: file.id,
          generation: store.generation,
          ...payer,
        });
        await tx.update(vectorStoreFiles).set({ jobId }).where(fileKey(store.id, file.id));
        rows.push({ ...row!, jobId });
      }
      return rows;
    },

    /**
     * A file left in_progress whose job ended without finishing it (failed for good, cancelled, or
     * reaped after its last attempt) fails with the job's error: nothing stays "in progress" forever.
     */
    async reconcile(storeIds: string[]) {
      const stuck = await db
        .select({
          storeId: vectorStoreFiles.storeId,
          fileId: vectorStoreFiles.fileId,
          status: jobRows.status,
          error: jobRows.error,
        })
        .from(vectorStoreFiles)
        .innerJoin(jobRows, eq(jobRows.id, vectorStoreFiles.jobId))
        .where(
          and(
            inArray(vectorStoreFiles.storeId, storeIds),
            eq(vectorStoreFiles.status, 'in_progress'),
            inArray(jobRows.status, ['failed', 'cancelled']),
          ),
        );
      for (const s of stuck) {
        const cancelled = s.status === 'cancelled';
        await db
          .update(vectorStoreFiles)
          .set({
            status: cancelled ? 'cancelled' : 'failed',
            lastError: cancelled ? null : { code: 'server_error', message: s.error ?? 'ingestion failed' },
            updatedAt: new Date(),
          })
          .where(and(fileKey(s.storeId, s.fileId), eq(vectorStoreFiles.status, 'in_progress')));
      }
    },

    async get(scope: Scope, storeId: string, fileId: string) {
      await service.reconcile([storeId]);
      return toVectorStoreFileObject(await getRow(scope, storeId, fileId));
    },

    async list(scope: Scope, storeId: string, q: ListQuery, batchId?: string) {
      await service.reconcile([storeId]);
      const page = pageOf(vectorStoreFiles.fileId, q);
      const rows = await db
        .select()
        .from(vectorStoreFiles)
        .where(
          and(
            eq(vectorStoreFiles.storeId, storeId),
            eq(vectorStoreFiles.orgId, scope.orgId),
            eq(vectorStoreFiles.projectId, scope.projectId),
            q.filter ? eq(vectorStoreFiles.status, q.filter) : undefined,
            batchId ? eq(vectorStoreFiles.batchId, batchId) : undefined,
            page.where,
          ),
        )
        .orderBy(page.orderBy)
        .limit(page.limit);
      return listPage(rows.slice(0, q.limit).map(toVectorStoreFileObject), rows.length > q.limit);
    },

    async updateAttributes(scope: Scope, storeId: string, fileId: string, attributes: Attributes | null) {
      await getRow(scope, storeId, fileId);
      await db
        .update(vectorStoreFiles)
        .set({ attributes: attributes ?? {}, updatedAt: new Date() })
        .where(fileKey(storeId, fileId));
      return toVectorStoreFileObject(await getRow(scope, storeId, fileId));
    },

    /** Removes the file from the store (its chunks and terms); the file itself stays in /v1/files. */
    async remove(scope: Scope, storeId: string, fileId: string, inTx?: (tx: DbOrTx) => Promise<unknown>) {
      const row = await getRow(scope, storeId, fileId);
      await db.transaction(async (tx) => {
        await dropChunks(tx, storeId, fileId);
        await tx.delete(vectorStoreFiles).where(fileKey(storeId, fileId));
        await inTx?.(tx);
      });
      await cancelJobs([row.status === 'in_progress' ? row.jobId : null]);
      return { id: fileId, object: 'vector_store.file.deleted' as const, deleted: true as const };
    },

    async content(scope: Scope, storeId: string, fileId: string) {
      await getRow(scope, storeId, fileId);
      const chunks = await db
        .select({ text: knowledgeChunks.text })
        .from(knowledgeChunks)
        .where(and(eq(knowledgeChunks.storeId, storeId), eq(knowledgeChunks.fileId, fileId)))
        .orderBy(knowledgeChunks.position);
      return {
        object: 'vector_store.file_content.page' as const,
        data: chunks.map((c) => ({ type: 'text' as const, text: c.text })),
        has_more: false,
        next_page: null,
      };
    },

    /**
     * Every file of the store again, with the store's (new) settings and generation, paid by whoever
     * asked for it; returns the jobs of the older generation, for the caller to cancel once this
     * transaction committed. A new embedding model drops the chunks at once (they answer no query).
     */
    async reindexAll(
      tx: DbOrTx,
      store: VectorStoreRow,
      payer: Payer,
      opts: { dropChunks?: boolean } = {},
    ): Promise<(string | null)[]> {
      const rows = await tx.select().from(vectorStoreFiles).where(eq(vectorStoreFiles.storeId, store.id));
      if (opts.dropChunks) await clearChunks(tx, store.id);
      for (const r of rows)
        await service.add(
          tx,
          store,
          payer,
          [{ file_id: r.fileId, filename: r.filename, attributes: r.attributes }],
          {
            chunking: store.chunking,
            ...(r.batchId ? { batchId: r.batchId } : {}),
          },
        );
      return rows.filter((r) => r.status === 'in_progress').map((r) => r.jobId);
    },
    cancelJobs,

    async removeStore(storeId: string, inTx?: (tx: DbOrTx) => Promise<void>) {
      const running = await db
        .select({ jobId: vectorStoreFiles.jobId })
        .from(vectorStoreFiles)
        .where(and(eq(vectorStoreFiles.storeId, storeId), eq(vectorStoreFiles.status, 'in_progress')));
      await db.transaction(async (tx) => {
        await dropChunks(tx, storeId);
        await tx.execute(sql`delete from vector_stores where id = ${storeId}`);
        await inTx?.(tx);
      });
      await cancelJobs(running.map((r) => r.jobId));
    },

    async createBatch(
      scope: Scope,
      store: VectorStoreRow,
      payer: Payer,
      list: FileToAdd[],
      defaults: { attributes?: Attributes | null; chunking?: ChunkingStrategyInput | undefined },
    ) {
      const id = newBatchId();
      const resolved = await service.resolve(scope, list);
      await db.transaction(async (tx) => {
        await tx
          .insert(vectorStoreFileBatches)
          .values({ id, storeId: store.id, orgId: scope.orgId, projectId: scope.projectId });
        await service.add(tx, store, payer, resolved, {
          batchId: id,
          attributes: defaults.attributes ?? null,
          ...(defaults.chunking ? { chunking: toStaticChunking(defaults.chunking) } : {}),
        });
      });
      return service.getBatch(scope, store.id, id);
    },

    async getBatch(scope: Scope, storeId: string, batchId: string) {
      const [row] = await db
        .select()
        .from(vectorStoreFileBatches)
        .where(
          and(
            eq(vectorStoreFileBatches.id, batchId),
            eq(vectorStoreFileBatches.storeId, storeId),
            eq(vectorStoreFileBatches.orgId, scope.orgId),
            eq(vectorStoreFileBatches.projectId, scope.projectId),
          ),
        );
      if (!row) throw batchNotFound(batchId);
      await service.reconcile([storeId]);
      const counted = await db
        .select({ status: vectorStoreFiles.status, n: sql<number>`count(*)::int` })
        .from(vectorStoreFiles)
        .where(eq(vectorStoreFiles.batchId, batchId))
        .groupBy(vectorStoreFiles.status);
      const counts = emptyCounts();
      for (const c of counted) addCount(counts, c.status as VectorStoreFileStatus, Number(c.n));
      return toFileBatchObject(row, counts);
    },

    async cancelBatch(scope: Scope, storeId: string, batchId: string) {
      await service.getBatch(scope, storeId, batchId);
      const cancelled = await db.transaction(async (tx) => {
        await tx
          .update(vectorStoreFileBatches)
          .set({ cancelledAt: new Date() })
          .where(eq(vectorStoreFileBatches.id, batchId));
        return tx
          .update(vectorStoreFiles)
          .set({ status: 'cancelled', updatedAt: new Date() })
          .where(and(eq(vectorStoreFiles.batchId, batchId), eq(vectorStoreFiles.status, 'in_progress')))
          .returning({ jobId: vectorStoreFiles.jobId });
      });
      await cancelJobs(cancelled.map((r) => r.jobId));
      return service.getBatch(scope, storeId, batchId);
    },
  };
  return service;
}

export type FileService = ReturnType<typeof createFileService>;
