import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../http/app-error.ts';
import { principalOf } from '../../http/principal.ts';
import { auditContextOf } from '../../http/request-context.ts';
import type { AuditService } from '../audit/index.ts';
import {
  auditView,
  chunkList,
  createKnowledgeBaseBody,
  documentDto,
  documentList,
  documentParams,
  documentsQuery,
  kbParams,
  knowledgeBaseDto,
  knowledgeBaseList,
  knowledgeBasesQuery,
  knowledgeModelList,
  projectParams,
  searchResults,
  toDocumentDto,
  toKnowledgeBaseDto,
} from './admin-dto.ts';
import type { Knowledge } from './knowledge.ts';
import { callerOf, payerOf } from './payer.ts';
import type { Scope } from './ports.ts';
import type { VectorStoreRow } from './schema.ts';
import { createFileBody, searchBody, updateFileBody, updateStoreBody } from './wire.ts';

export interface AdminKnowledgeRoutesOptions {
  knowledge: Knowledge;
  audit: AuditService;
  /** whether the project belongs to the org (another org's project is a 404) */
  projectInOrg: (orgId: string, projectId: string) => Promise<boolean>;
  /** streams a multipart upload into /v1/files of the project */
  upload: (req: FastifyRequest, scope: Scope) => Promise<{ id: string; filename: string }>;
  maxBytes: number;
}

const tags = ['knowledge'];

/**
 * The console's knowledge bases of a project (/api/v1/projects/:id/knowledge-bases): the same
 * service as /v1/vector_stores, behind a session (or an admin-scoped key), with each write audited.
 * Embeddings and reranks run as the caller: a person pays as themself (see payer.ts).
 */
export async function adminKnowledgeRoutes(app: FastifyInstance, opts: AdminKnowledgeRoutesOptions) {
  const { stores, files } = opts.knowledge;
  const { db } = opts.knowledge.deps;
  await app.register(multipart, {
    preservePath: true,
    throwFileSizeLimit: true,
    limits: { fileSize: opts.maxBytes, files: 1, fields: 8, fieldSize: 1024, parts: 10, headerPairs: 32 },
  });
  // the project is the org's, whoever asks (a key is held to its own project by route access)
  app.addHook('preHandler', async (req) => {
    const projectId = (req.params as { id?: string }).id;
    if (projectId === undefined) return;
    if (!(await opts.projectInOrg(principalOf(req).orgId, projectId))) throw notFound('project');
  });
  const r = app.withTypeProvider<ZodTypeProvider>();
  const scopeOf = (req: FastifyRequest): Scope => ({
    orgId: principalOf(req).orgId,
    projectId: (req.params as { id: string }).id,
  });
  const audited =
    (req: FastifyRequest, action: string) =>
    async (tx: DbOrTx, before: VectorStoreRow | null, after: VectorStoreRow | null) => {
      const row = (after ?? before)!;
      await opts.audit.append(tx, auditContextOf(req), {
        orgId: row.orgId,
        action,
        target: { type: 'knowledge_base', id: row.id },
        ...(before ? { before: auditView(before) } : {}),
        ...(after ? { after: auditView(after) } : {}),
      });
    };
  const documentAudit = (req: FastifyRequest, action: string, fileId: string) => async (tx: DbOrTx) =>
    opts.audit.append(tx, auditContextOf(req), {
      orgId: principalOf(req).orgId,
      action,
      target: { type: 'knowledge_base', id: (req.params as { kb_id: string }).kb_id },
      after: { file_id: fileId },
    });
  const dto = (req: FastifyRequest, o: Parameters<typeof toKnowledgeBaseDto>[0]) =>
    toKnowledgeBaseDto(o, scopeOf(req).projectId);
  const base = '/projects/:id/knowledge-bases';

  r.get(
    `${base}/models`,
    {
      schema: {
        tags,
        summary: 'The embedding and rerank models a knowledge base of the project may use',
        response: { 200: knowledgeModelList },
        params: projectParams,
      },
    },
    async (req) => ({ data: stores.modelsFor(scopeOf(req)) }),
  );

  r.get(
    base,
    {
      schema: {
        tags,
        summary: "The project's knowledge bases",
        response: { 200: knowledgeBaseList },
        params: projectParams,
        querystring: knowledgeBasesQuery,
      },
    },
    async (req) => {
      const page = await stores.list(scopeOf(req), {
        limit: req.query.limit,
        order: 'desc',
        after: req.query.cursor,
      });
      return {
        data: page.data.map((o) => dto(req, o)),
        next_cursor: page.has_more ? page.last_id : null,
      };
    },
  );

  r.post(
    base,
    {
      schema: {
        tags,
        summary: 'Create a knowledge base (embedding model from the registry, chunking, retrieval defaults)',
        response: { 201: knowledgeBaseDto },
        params: projectParams,
        body: createKnowledgeBaseBody,
      },
    },
    async (req, reply) => {
      const created = await stores.create(
        scopeOf(req),
        payerOf(principalOf(req)),
        req.body,
        audited(req, 'knowledge_base.create'),
      );
      return reply.code(201).send(dto(req, created));
    },
  );

  r.get(
    `${base}/:kb_id`,
    {
      schema: { tags, summary: 'One knowledge base', params: kbParams, response: { 200: knowledgeBaseDto } },
    },
    async (req) => dto(req, await stores.retrieve(scopeOf(req), req.params.kb_id)),
  );

  r.patch(
    `${base}/:kb_id`,
    {
      schema: {
        tags,
        summary:
          'Change a knowledge base: new chunking settings or another embedding model re-index every document',
        params: kbParams,
        body: updateStoreBody,
        response: { 200: knowledgeBaseDto },
      },
    },
    async (req) =>
      dto(
        req,
        await stores.update(
          scopeOf(req),
          req.params.kb_id,
          req.body,
          payerOf(principalOf(req)),
          audited(req, 'knowledge_base.update'),
        ),
      ),
  );

  r.delete(
    `${base}/:kb_id`,
    { schema: { tags, summary: 'Delete a knowledge base and its chunks', params: kbParams } },
    async (req, reply) => {
      await stores.remove(scopeOf(req), req.params.kb_id, audited(req, 'knowledge_base.delete'));
      return reply.code(204).send();
    },
  );

  r.post(
    `${base}/:kb_id/reindex`,
    {
      schema: {
        tags,
        summary: 'Split, embed and index every document again',
        params: kbParams,
        response: { 200: knowledgeBaseDto },
      },
    },
    async (req) =>
      dto(
        req,
        await stores.reindex(
          scopeOf(req),
          req.params.kb_id,
          payerOf(principalOf(req)),
          audited(req, 'knowledge_base.reindex'),
        ),
      ),
  );

  r.post(
    `${base}/:kb_id/search`,
    {
      schema: {
        tags,
        summary: 'Search a knowledge base (the playground): hits with their score breakdown',
        response: { 200: searchResults },
        params: kbParams,
        body: searchBody,
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const page = await stores.search(scope, req.params.kb_id, callerOf(principalOf(req), scope), req.body);
      return { search_query: page.search_query, data: page.data };
    },
  );

  r.get(
    `${base}/:kb_id/documents`,
    {
      schema: {
        tags,
        summary: "A knowledge base's documents with their pipeline state per stage",
        response: { 200: documentList },
        params: kbParams,
        querystring: documentsQuery,
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      await stores.get(scope, req.params.kb_id);
      const q = req.query;
      const page = await files.list(scope, req.params.kb_id, {
        limit: q.limit,
        order: 'desc',
        after: q.cursor,
        filter: q.status,
      });
      return { data: page.data.map(toDocumentDto), next_cursor: page.has_more ? page.last_id : null };
    },
  );

  /** adds a file of the project's /v1/files to the knowledge base, in one audited transaction */
  const addDocument = async (
    req: FastifyRequest,
    kbId: string,
    item: z.infer<typeof createFileBody> & { filename?: string },
  ) => {
    const scope = scopeOf(req);
    const store = await stores.usable(scope, kbId);
    const [resolved] = item.filename ? [item] : await files.resolve(scope, [item]);
    await db.transaction(async (tx) => {
      await files.add(tx, store, payerOf(principalOf(req)), [resolved!]);
      await documentAudit(req, 'knowledge_base.document.add', item.file_id)(tx);
    });
    await stores.touch(store);
    return toDocumentDto(await files.get(scope, store.id, item.file_id));
  };

  r.post(
    `${base}/:kb_id/documents`,
    {
      schema: {
        tags,
        summary: 'Add a file already in /v1/files of the project (ingested in the background)',
        params: kbParams,
        body: createFileBody,
        response: { 201: documentDto },
      },
    },
    async (req, reply) => reply.code(201).send(await addDocument(req, req.params.kb_id, req.body)),
  );

  r.post(
    `${base}/:kb_id/documents/upload`,
    {
      schema: {
        tags,
        summary: 'Upload a document (multipart/form-data: file) and add it (ingested in the background)',
        params: kbParams,
        consumes: ['multipart/form-data'],
        response: { 201: documentDto },
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req);
      await stores.usable(scope, req.params.kb_id);
      const file = await opts.upload(req, scope);
      return reply
        .code(201)
        .send(await addDocument(req, req.params.kb_id, { file_id: file.id, filename: file.filename }));
    },
  );

  r.patch(
    `${base}/:kb_id/documents/:file_id`,
    {
      schema: {
        tags,
        summary: "Change a document's attributes (what search filters match)",
        response: { 200: documentDto },
        params: documentParams,
        body: updateFileBody,
      },
    },
    async (req) =>
      toDocumentDto(
        await files.updateAttributes(scopeOf(req), req.params.kb_id, req.params.file_id, req.body.attributes),
      ),
  );

  r.delete(
    `${base}/:kb_id/documents/:file_id`,
    {
      schema: {
        tags,
        summary: 'Remove a document and its chunks (the file stays in /v1/files)',
        params: documentParams,
      },
    },
    async (req, reply) => {
      const { kb_id, file_id } = req.params;
      await files.remove(
        scopeOf(req),
        kb_id,
        file_id,
        documentAudit(req, 'knowledge_base.document.remove', file_id),
      );
      return reply.code(204).send();
    },
  );

  r.get(
    `${base}/:kb_id/documents/:file_id/chunks`,
    {
      schema: {
        tags,
        summary: 'The chunks a document was split into, in order',
        params: documentParams,
        response: { 200: chunkList },
      },
    },
    async (req) => {
      const page = await files.content(scopeOf(req), req.params.kb_id, req.params.file_id);
      return { data: page.data.map((c, position) => ({ position, text: c.text })) };
    },
  );
}
