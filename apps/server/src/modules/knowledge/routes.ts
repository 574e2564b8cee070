import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type KnowledgeRoutesOptions, keyOf, scopeOf, security, storeParams, tags } from './route-common.ts';
import { fileRoutes } from './routes-files.ts';
import { createStoreBody, listQuery, searchBody, updateStoreBody } from './wire.ts';

/** OpenAI's /v1/vector_stores: stores, search; files and file batches in routes-files.ts. */
export async function knowledgeRoutes(app: FastifyInstance, opts: KnowledgeRoutesOptions) {
  const { stores } = opts.knowledge;
  opts.authenticate(app);
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/vector_stores',
    { schema: { tags, security, summary: 'Create a vector store (knowledge base)', body: createStoreBody } },
    async (req) => stores.create(scopeOf(req), { key_id: keyOf(req).keyId }, req.body),
  );
  r.get(
    '/vector_stores',
    {
      schema: {
        tags,
        security,
        summary: "The project's vector stores",
        querystring: listQuery.omit({ filter: true }),
      },
    },
    async (req) => stores.list(scopeOf(req), req.query),
  );
  r.get(
    '/vector_stores/:vector_store_id',
    { schema: { tags, security, summary: 'One vector store', params: storeParams } },
    async (req) => stores.retrieve(scopeOf(req), req.params.vector_store_id),
  );
  r.post(
    '/vector_stores/:vector_store_id',
    {
      schema: {
        tags,
        security,
        summary: 'Modify a vector store',
        params: storeParams,
        body: updateStoreBody,
      },
    },
    async (req) =>
      stores.update(scopeOf(req), req.params.vector_store_id, req.body, { key_id: keyOf(req).keyId }),
  );
  r.delete(
    '/vector_stores/:vector_store_id',
    { schema: { tags, security, summary: 'Delete a vector store and its chunks', params: storeParams } },
    async (req) => stores.remove(scopeOf(req), req.params.vector_store_id),
  );

  r.post(
    '/vector_stores/:vector_store_id/search',
    {
      schema: {
        tags,
        security,
        summary: 'Search a vector store (dense, or hybrid with BM25); hits carry score_breakdown',
        params: storeParams,
        body: searchBody,
      },
    },
    async (req) => stores.search(scopeOf(req), req.params.vector_store_id, keyOf(req), req.body),
  );

  // same plugin context (and hooks); registering it would prefix its routes twice
  await fileRoutes(app, opts);
}
