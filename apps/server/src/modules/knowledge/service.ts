import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { DbOrTx } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { addCount, emptyCounts, type FileCounts, toVectorStoreObject } from './dto.ts';
import { badRequest, storeNotFound } from './errors.ts';
import type { FileService } from './file-service.ts';
import { newStoreId } from './ids.ts';
import { listPage, pageOf } from './page.ts';
import type { Payer } from './payer.ts';
import type { KnowledgeDeps, Scope } from './ports.ts';
import {
  type RetrievalDefaults,
  type VectorStoreFileStatus,
  type VectorStoreRow,
  vectorStoreFiles,
  vectorStores,
} from './schema.ts';
import { rankingFor, searchStores, toSearchPage } from './search.ts';
import {
  type createStoreBody,
  type ListQuery,
  type RetrievalDefaultsInput,
  type SearchBody,
  sameChunking,
  toStaticChunking,
  type updateStoreBody,
} from './wire.ts';

const DAY_MS = 86_400_000;

/** Runs in the write's own transaction (the admin API appends its audit event there). */
export type InWrite = (
  tx: DbOrTx,
  before: VectorStoreRow | null,
  after: VectorStoreRow | null,
) => Promise<void>;
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

  const modelUsable =
    (scope: Scope, type: string) =>
    (m: { type: string; status: string; accessProjects: ReadonlySet<string> | null }) =>
      m.type === type &&
      m.status !== 'retired' &&
      (!m.accessProjects || m.accessProjects.has(scope.projectId));

  /** The model named, or the first active embedding model of the org that the project may use. */
  function embeddingModel(scope: Scope, name: string | undefined): string {
    if (name) return modelOfType(scope, name, 'embedding', 'embedding_model');
    const first = deps.models.visibleTo(scope.orgId).find(modelUsable(scope, 'embedding'));
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
    if (!m || !modelUsable(scope, type)(m))
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

  const isExpired = (store: VectorStoreRow) => store.expiresAt !== null && store.expiresAt <= now();

  /** The store, unless it has expired (a 400 that says so): what searches and new files need. */
  async function usable(scope: Scope, id: string, tx: DbOrTx = db): Promise<VectorStoreRow> {
    const store = await get(scope, id, tx);
    if (isExpired(store))
      throw badRequest(
        `Vector store ${store.id} has expired; create a new one, or delete this one.`,
        'vector_store_id',
      );
    return store;
  }

  const expiry = (after: { days: number } | null | undefined, from: Date) =>
    after ? new Date(from.getTime() + after.days * DAY_MS) : null;

  /** a search or a file added: the store is active (its expiry moves with it) */
  async function touch(store: VectorStoreRow) {
    const at = now();
    await db
      .update(vectorStores)
      .set({ lastActiveAt: at, expiresAt: expiry(store.expiresAfter, at) })
      .where(eq(vectorStores.id, store.id));
  }

  return {
    get,
    /** the embedding and rerank models the project may use, for a knowledge base's settings */
    modelsFor(scope: Scope) {
      return deps.models
        .visibleTo(scope.orgId)
        .filter((m) => modelUsable(scope, 'embedding')(m) || modelUsable(scope, 'rerank')(m))
        .map((m) => ({ name: m.name, type: m.type as 'embedding' | 'rerank' }));
    },
    async create(scope: Scope, payer: Payer, body: z.infer<typeof createStoreBody>, inWrite?: InWrite) {
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
        const created = await get(scope, id, tx);
        if (toAdd.length > 0) await files.add(tx, created, payer, toAdd, { chunking });
        await inWrite?.(tx, null, created);
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

    /**
     * New settings. Other chunking settings re-index every file; another embedding model also drops
     * every chunk at once (its vectors answer no query of the new model). Re-indexing is paid by
     * `payer`, who asked for it.
     */
    async update(
      scope: Scope,
      id: string,
      body: z.infer<typeof updateStoreBody>,
      payer: Payer,
      inWrite?: InWrite,
    ) {
      const model =
        body.embedding_model !== undefined ? embeddingModel(scope, body.embedding_model) : undefined;
      const superseded = await db.transaction(async (tx) => {
        const store = await get(scope, id, tx);
        const patch: Partial<VectorStoreRow> = {};
        if (body.name !== undefined) patch.name = body.name;
        if (body.description !== undefined) patch.description = body.description;
        if (body.metadata !== undefined) patch.metadata = body.metadata;
        if (body.expires_after !== undefined) {
          patch.expiresAfter = body.expires_after;
          patch.expiresAt = expiry(body.expires_after, store.lastActiveAt);
        }
        if (body.retrieval)
          patch.retrieval = { ...store.retrieval, ...retrievalPatch(scope, body.retrieval) };
        const chunking = body.chunking_strategy ? toStaticChunking(body.chunking_strategy) : null;
        const rechunk = chunking !== null && !sameChunking(chunking, store.chunking);
        const reembed = model !== undefined && model !== store.embeddingModel;
        if (rechunk) patch.chunking = chunking;
        if (reembed) {
          patch.embeddingModel = model;
          patch.dimensions = null;
        }
        if (rechunk || reembed) patch.generation = store.generation + 1;
        if (Object.keys(patch).length > 0)
          await tx.update(vectorStores).set(patch).where(eq(vectorStores.id, id));
        const after = { ...store, ...patch } as VectorStoreRow;
        await inWrite?.(tx, store, after);
        // new settings: every file is split, embedded and indexed again
        return rechunk || reembed ? files.reindexAll(tx, after, payer, { dropChunks: reembed }) : [];
      });
      await files.cancelJobs(superseded);
      const [obj] = await toObjects([await get(scope, id)]);
      return obj!;
    },

    /** Every file split, embedded and indexed again with the store's settings (paid by `payer`). */
    async reindex(scope: Scope, id: string, payer: Payer, inWrite?: InWrite) {
      const superseded = await db.transaction(async (tx) => {
        const store = await usable(scope, id, tx);
        const after = { ...store, generation: store.generation + 1 };
        await tx.update(vectorStores).set({ generation: after.generation }).where(eq(vectorStores.id, id));
        await inWrite?.(tx, store, after);
        return files.reindexAll(tx, after, payer);
      });
      await files.cancelJobs(superseded);
      const [obj] = await toObjects([await get(scope, id)]);
      return obj!;
    },

    async remove(scope: Scope, id: string, inWrite?: InWrite) {
      const store = await get(scope, id);
      await files.removeStore(id, inWrite ? (tx) => inWrite(tx, store, null) : undefined);
      return { id, object: 'vector_store.deleted' as const, deleted: true as const };
    },

    /**
     * Expired stores (OpenAI's expires_after): their ingestion stops and their chunks go, so they
     * hold no storage; the store stays, listed as `expired`, until it is deleted. A search of it,
     * or a file added to it, is refused.
     */
    async sweepExpired(): Promise<number> {
      const due = await db
        .select({ id: vectorStores.id })
        .from(vectorStores)
        .where(
          and(
            lte(vectorStores.expiresAt, now()),
            sql`exists (select 1 from vector_store_files f where f.vector_store_id = ${vectorStores.id}
              and (f.chunk_count > 0 or f.status = 'in_progress'))`,
          ),
        );
      for (const { id } of due) {
        const running = await db.transaction(async (tx) => {
          const [store] = await tx.select().from(vectorStores).where(eq(vectorStores.id, id)).for('update');
          if (!store || !isExpired(store)) return [];
          await files.clearChunks(tx, id);
          return tx
            .update(vectorStoreFiles)
            .set({ status: 'cancelled', updatedAt: now() })
            .where(and(eq(vectorStoreFiles.storeId, id), eq(vectorStoreFiles.status, 'in_progress')))
            .returning({ jobId: vectorStoreFiles.jobId });
        });
        await files.cancelJobs(running.map((r) => r.jobId));
      }
      return due.length;
    },

    /**
     * A search of one store as OpenAI's search request asks it, run as `caller`; the store's
     * retrieval defaults fill in what the request leaves out. `rewrite_query` is accepted and
     * ignored: the query is searched as sent (search_query says so).
     */
    async search(scope: Scope, id: string, caller: KeyPrincipal, body: SearchBody) {
      const store = await usable(scope, id);
      const queries = typeof body.query === 'string' ? [body.query] : body.query;
      const ranking = body.ranking_options ?? {};
      const hits = await searchStores(deps, caller, {
        stores: [store],
        queries,
        maxResults: body.max_num_results ?? store.retrieval.max_num_results,
        filters: body.filters,
        ...rankingFor(store, ranking.ranker),
        scoreThreshold: ranking.score_threshold ?? store.retrieval.score_threshold,
      });
      await touch(store);
      return toSearchPage(queries, hits);
    },

    touch,
    isExpired,
    usable,
  };
}

export type StoreService = ReturnType<typeof createStoreService>;
