import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KnowledgeRoutesOptions, keyOf, scopeOf, security, storeParams, tags } from './route-common.ts';
import { createBatchBody, createFileBody, listQuery, updateFileBody } from './wire.ts';

const fileParams = storeParams.extend({ file_id: z.string().max(200) });
const batchParams = storeParams.extend({ batch_id: z.string().max(200) });

/** /v1/vector_stores/{id}/files and /file_batches, as OpenAI has them. */
export async function fileRoutes(app: FastifyInstance, opts: KnowledgeRoutesOptions) {
  const { stores, files } = opts.knowledge;
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/vector_stores/:vector_store_id/files',
    {
      schema: {
        tags,
        security,
        summary: 'Add a file to a vector store (ingested in the background)',
        params: storeParams,
        body: createFileBody,
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const store = await stores.usable(scope, req.params.vector_store_id);
      const toAdd = await files.resolve(scope, [req.body]);
      await opts.knowledge.deps.db.transaction((tx) =>
        files.add(tx, store, { key_id: keyOf(req).keyId }, toAdd),
      );
      await stores.touch(store);
      return files.get(scope, store.id, req.body.file_id);
    },
  );
  r.get(
    '/vector_stores/:vector_store_id/files',
    {
      schema: {
        tags,
        security,
        summary: "A vector store's files",
        params: storeParams,
        querystring: listQuery,
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      await stores.get(scope, req.params.vector_store_id);
      return files.list(scope, req.params.vector_store_id, req.query);
    },
  );
  r.get(
    '/vector_stores/:vector_store_id/files/:file_id',
    {
      schema: {
        tags,
        security,
        summary: 'One file of a vector store, with its ingestion stages',
        params: fileParams,
      },
    },
    async (req) => files.get(scopeOf(req), req.params.vector_store_id, req.params.file_id),
  );
  r.post(
    '/vector_stores/:vector_store_id/files/:file_id',
    {
      schema: {
        tags,
        security,
        summary: "Set a file's attributes",
        params: fileParams,
        body: updateFileBody,
      },
    },
    async (req) =>
      files.updateAttributes(
        scopeOf(req),
        req.params.vector_store_id,
        req.params.file_id,
        req.body.attributes,
      ),
  );
  r.delete(
    '/vector_stores/:vector_store_id/files/:file_id',
    { schema: { tags, security, summary: 'Remove a file from a vector store', params: fileParams } },
    async (req) => files.remove(scopeOf(req), req.params.vector_store_id, req.params.file_id),
  );
  r.get(
    '/vector_stores/:vector_store_id/files/:file_id/content',
    { schema: { tags, security, summary: "A file's parsed content, chunk by chunk", params: fileParams } },
    async (req) => files.content(scopeOf(req), req.params.vector_store_id, req.params.file_id),
  );

  r.post(
    '/vector_stores/:vector_store_id/file_batches',
    {
      schema: {
        tags,
        security,
        summary: 'Add several files at once',
        params: storeParams,
        body: createBatchBody,
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const store = await stores.usable(scope, req.params.vector_store_id);
      const list = req.body.files ?? (req.body.file_ids ?? []).map((file_id) => ({ file_id }));
      const batch = await files.createBatch(scope, store, { key_id: keyOf(req).keyId }, list, {
        attributes: req.body.attributes ?? null,
        chunking: req.body.chunking_strategy,
      });
      await stores.touch(store);
      return batch;
    },
  );
  r.get(
    '/vector_stores/:vector_store_id/file_batches/:batch_id',
    { schema: { tags, security, summary: 'One file batch', params: batchParams } },
    async (req) => files.getBatch(scopeOf(req), req.params.vector_store_id, req.params.batch_id),
  );
  r.post(
    '/vector_stores/:vector_store_id/file_batches/:batch_id/cancel',
    { schema: { tags, security, summary: "Cancel a batch's files still in progress", params: batchParams } },
    async (req) => files.cancelBatch(scopeOf(req), req.params.vector_store_id, req.params.batch_id),
  );
  r.get(
    '/vector_stores/:vector_store_id/file_batches/:batch_id/files',
    { schema: { tags, security, summary: "A batch's files", params: batchParams, querystring: listQuery } },
    async (req) => {
      const scope = scopeOf(req);
      await files.getBatch(scope, req.params.vector_store_id, req.params.batch_id);
      return files.list(scope, req.params.vector_store_id, req.query, req.params.batch_id);
    },
  );
}
