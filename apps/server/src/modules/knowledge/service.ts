import { and, eq, inArray, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { DbOrTx } from '../../db/client.ts';
import { addCount, emptyCounts, type FileCounts, toVectorStoreObject } from './dto.ts';
import { badRequest, storeNotFound } from './errors.ts';
import type { FileService } from './file-service.ts';
import { newStoreId } from './ids.ts';
import { listPage, pageOf } from './page.ts';
import type { KnowledgeDeps, Scope } from './ports.ts';
import {
  type RetrievalDefaults,
  type VectorStoreFileStatus,
  type VectorStoreRow,
  vectorStoreFiles,
  vectorStores,
} from './schema.ts';
import {
  type createStoreBody,
  type ListQuery,
  type RetrievalDefaultsInput,
  sameChunking,
  toStaticChunking,
  type updateStoreBody,
} from './wire.ts';

const DAY_MS = 86_400_000;
const DEFAULT_RETRIEVAL: RetrievalDefaults = { ranker: 'auto', max_num_results: 10, score_threshold: 0 };

/** Vector stores (knowledge bases) of a project: OpenAI's CRUD plus maas's settings. */
export function createStoreService(deps: KnowledgeDeps, files: FileService) {
  const { db } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  async function get(scope: Scope, id: string, tx: DbOrTx = db): Promise<VectorStoreRow> {
    const [row] = await tx
      .select()
      .from(vectorStores)
      .where(
        and(
          eq(vectorStores.id, id),
          eq(vectorStores.orgId, scope.orgId),
          eq(vectorStores.projectId, scope.projectId),
        ),
      );
    if (!row) throw storeNotFound(id);
    return row;
  }

  async function toObjects(rows: VectorStoreRow[]) {
    if (rows.length === 0) return [];
    await files.reconcile(rows.map((r) => r.id));
    const counted = await db
      .select({
        storeId: vectorStoreFiles.storeId,
        status: vectorStoreFiles.status,
        n: sql<number>`count(*)::int`,
        bytes: sql<number>`coalesce(sum(${vectorStoreFiles.usageBytes}), 0)::bigint`,
      })
      .from(vectorStoreFiles)
      .where(
        inArray(
          vectorStoreFiles.storeId,
          rows.map((r) => r.id),
        ),
      )
      .groupBy(vectorStoreFiles.storeId, vectorStoreFiles.status);
    const counts = new Map<string, { c: FileCounts; bytes: number }>();
    for (const r of counted) {
      const entry = counts.get(r.storeId) ?? { c: emptyCounts(), bytes: 0 };
      addCount(entry.c, r.status as VectorStoreFileStatus, Number(r.n));
      entry.bytes += Number(r.bytes);
      counts.set(r.storeId, entry);
    }
    const at = now();
    return rows.map((r) => {
      const e = counts.get(r.id);
      return toVectorStoreObject(r, e?.c ?? emptyCounts(), e?.bytes ?? 0, at);
    });
  }

  const usable =
    (scope: Scope, type: string) =>
    (m: { type: string; status: string; accessProjects: ReadonlySet<string> | null }) =>
      m.type === type &&
      m.status !== 'retired' &&
      (!m.accessProjects || m.accessProjects.has(scope.projectId));

  /** The model named, or the first active embedding model of the org that the project may use. */
  function embeddingModel(scope: Scope, name: string | undefined): string {
    if (name) return modelOfType(scope, name, 'embedding', 'embedding_model');
    const first = deps.models.visibleTo(scope.orgId).find(usable(scope, 'embedding'));
    if (!first)
      throw badRequest(
        'No embedding model is available to this project: register one, or name it in embedding_model.',
        'embedding_model',
      );
    return first.name;
  }

  /** `name` when it is a model of `type` that the project may use (another org's is unknown here). */
  function modelOfType(scope: Scope, name: string, type: string, param: string): string {
    const m = deps.models.lookup(scope.orgId, name);
    if (!m || !usable(scope, type)(m))
      throw badRequest(
        `'${name.slice(0, 100)}' is not ${type === 'embedding' ? 'an' : 'a'} ${type} model this project may use.`,
        param,
      );
    return name;
  }

  function retrievalPatch(scope: Scope, body: RetrievalDefaultsInput | undefined) {
    if (body?.rerank_model) modelOfType(scope, body.rerank_model, 'rerank', 'retrieval.rerank_model');
    return body ?? {};
  }

  const expiry = (after: { days: number } | null | undefined, from: Date) =>
    after ? new Date(from.getTime() + after.days * DAY_MS) : null;

  return {
    get,
    async create(scope: Scope, keyId: string, body: z.infer<typeof createStoreBody>) {
      const model = embeddingModel(scope, body.embedding_model);
      const at = now();
      const id = newStoreId();
      const chunking = toStaticChunking(body.chunking_strategy);
      const toAdd = await files.resolve(
        scope,
        (body.file_ids ?? []).map((fileId) => ({ file_id: fileId })),
      );
      await db.transaction(async (tx) => {
        await tx.insert(vectorStores).values({
          id,
          orgId: scope.orgId,
          projectId: scope.projectId,
          name: body.name ?? null,
          description: body.description ?? null,
          embeddingModel: model,
          chunking,
          retrieval: { ...DEFAULT_RETRIEVAL, ...retrievalPatch(scope, body.retrieval) },
          metadata: body.metadata ?? null,
          expiresAfter: body.expires_after ?? null,
          expiresAt: expiry(body.expires_after, at),
          lastActiveAt: at,
          createdAt: at,
        });
        if (toAdd.length > 0) await files.add(tx, await get(scope, id, tx), keyId, toAdd, { chunking });
      });
      const [obj] = await toObjects([await get(scope, id)]);
      return obj!;
    },

    async retrieve(scope: Scope, id: string) {
      const [obj] = await toObjects([await get(scope, id)]);
      return obj!;
    },

    async list(scope: Scope, q: ListQuery) {
      const page = pageOf(vectorStores.id, q);
      const rows = await db
        .select()
        .from(vectorStores)
        .where(
          and(eq(vectorStores.orgId, scope.orgId), eq(vectorStores.projectId, scope.projectId), page.where),
        )
        .orderBy(page.orderBy)
        .limit(page.limit);
      const objs = await toObjects(rows.slice(0, q.limit));
      return listPage(objs, rows.length > q.limit);
    },

    async update(scope: Scope, id: string, body: z.infer<typeof updateStoreBody>) {
      const superseded = await db.transaction(async (tx) => {
        const store = await get(scope, id, tx);
        const patch: Partial<VectorStoreRow> = {};
        if (body.name !== undefined) patch.name = body.name;
        if (body.metadata !== undefined) patch.metadata = body.metadata;
        if (body.expires_after !== undefined) {
          patch.expiresAfter = body.expires_after;
          patch.expiresAt = expiry(body.expires_after, store.lastActiveAt);
        }
        if (body.retrieval)
          patch.retrieval = { ...store.retrieval, ...retrievalPatch(scope, body.retrieval) };
        const chunking = body.chunking_strategy ? toStaticChunking(body.chunking_strategy) : null;
        const rechunk = chunking && !sameChunking(chunking, store.chunking);
        if (rechunk) {
          patch.chunking = chunking;
          patch.generation = store.generation + 1;
        }
        if (Object.keys(patch).length > 0)
          await tx.update(vectorStores).set(patch).where(eq(vectorStores.id, id));
        // new chunking settings: every file is split, embedded and indexed again
        return rechunk ? files.reindexAll(tx, { ...store, ...patch } as VectorStoreRow) : [];
      });
      await files.cancelJobs(superseded);
      const [obj] = await toObjects([await get(scope, id)]);
      return obj!;
    },

    async remove(scope: Scope, id: string) {
      await get(scope, id);
      await files.removeStore(id);
      return { id, object: 'vector_store.deleted' as const, deleted: true as const };
    },

    /** a search or a file added: the store is active (its expiry moves with it) */
    async touch(store: VectorStoreRow) {
      const at = now();
      await db
        .update(vectorStores)
        .set({ lastActiveAt: at, expiresAt: expiry(store.expiresAfter, at) })
        .where(eq(vectorStores.id, store.id));
    },
    isExpired: (store: VectorStoreRow) => store.expiresAt !== null && store.expiresAt <= now(),
  };
}

export type StoreService = ReturnType<typeof createStoreService>;
