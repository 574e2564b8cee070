import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { contentHeaders, parseRange } from './content-headers.ts';
import { toFileObject } from './file-object.ts';
import { readUpload } from './read-upload.ts';
import type { FilesService } from './service.ts';

const tags = ['openai'];
const security = [{ bearer: [] }];

const fileObject = z.object({
  id: z.string(),
  object: z.literal('file'),
  bytes: z.number(),
  created_at: z.number(),
  expires_at: z.number().nullable(),
  filename: z.string(),
  purpose: z.string(),
  status: z.literal('processed'),
  status_details: z.null(),
});

const idParams = z.object({ id: z.string().max(200) });

const listQuery = z.strictObject({
  purpose: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().max(200).optional(),
});

export interface FileRoutesOptions {
  files: FilesService;
  maxBytes: number;
  /** adds /v1's hooks (request id, loop refusal, API key) to this plugin's routes */
  authenticate: (app: FastifyInstance) => void;
}

const scopeOf = (req: FastifyRequest) => {
  const key = req.principal as KeyPrincipal;
  return { orgId: key.orgId, projectId: key.projectId };
};

/** OpenAI's /v1/files: upload (multipart, streamed), list, retrieve, delete, content (streamed). */
export async function fileRoutes(app: FastifyInstance, opts: FileRoutesOptions) {
  const { files } = opts;
  opts.authenticate(app);
  await app.register(multipart, {
    // the filename is data and is kept as sent, path and all: it never names anything on disk
    preservePath: true,
    throwFileSizeLimit: true,
    limits: { fileSize: opts.maxBytes, files: 1, fields: 8, fieldSize: 1024, parts: 10, headerPairs: 32 },
  });
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/files',
    {
      schema: {
        tags,
        security,
        summary: 'Upload a file (multipart/form-data: file, purpose, expires_after)',
        consumes: ['multipart/form-data'],
        response: { 200: fileObject },
      },
    },
    async (req) => toFileObject(await readUpload(req, files)),
  );

  r.get(
    '/files',
    {
      schema: {
        tags,
        security,
        summary: "The project's files, newest first unless order=asc",
        querystring: listQuery,
        response: {
          200: z.object({
            object: z.literal('list'),
            data: z.array(fileObject),
            first_id: z.string().nullable(),
            last_id: z.string().nullable(),
            has_more: z.boolean(),
          }),
        },
      },
    },
    async (req) => {
      const { rows, hasMore } = await files.list(scopeOf(req), req.query);
      const data = rows.map(toFileObject);
      return {
        object: 'list' as const,
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: hasMore,
      };
    },
  );

  r.get(
    '/files/:id',
    { schema: { tags, security, summary: 'One file', params: idParams, response: { 200: fileObject } } },
    async (req) => toFileObject(await files.get(scopeOf(req), req.params.id)),
  );

  r.delete(
    '/files/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a file and its bytes',
        params: idParams,
        response: { 200: z.object({ id: z.string(), object: z.literal('file'), deleted: z.literal(true) }) },
      },
    },
    async (req) => {
      await files.remove(scopeOf(req), req.params.id);
      return { id: req.params.id, object: 'file' as const, deleted: true as const };
    },
  );

  r.get(
    '/files/:id/content',
    {
      schema: {
        tags,
        security,
        summary: "A file's bytes, streamed (a single Range is honoured)",
        params: idParams,
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req);
      const row = await files.get(scope, req.params.id);
      const range = parseRange(req.headers.range, row.bytes);
      if (range === 'unsatisfiable') {
        throw new AppError('validation_failed', 'Requested range not satisfiable', undefined, {
          status: 416,
          param: 'range',
          headers: { 'content-range': `bytes */${row.bytes}` },
        });
      }
      // HEAD: the headers only (Fastify would otherwise read the whole stored file to discard it)
      const body =
        req.method === 'HEAD'
          ? Readable.from([])
          : (await files.open(scope, row.id, range ?? undefined)).body;
      reply.headers(contentHeaders(row, range ?? undefined));
      reply.code(range ? 206 : 200);
      return reply.send(body);
    },
  );
}
