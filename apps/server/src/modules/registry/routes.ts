import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listQuery, page, pageOf } from '../../http/pagination.ts';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { auditContextOf } from '../../http/request-context.ts';
import {
  createModelBody,
  createVersionBody,
  modelDto,
  toModelDto,
  toVersionDto,
  trafficBody,
  updateModelBody,
  updateVersionBody,
  versionDto,
  versionParams,
} from './dto.ts';
import type { RegistryService } from './service.ts';
import { shareRoutes } from './share-routes.ts';

const tags = ['models'];

export interface RegistryRouteDeps {
  registry: RegistryService;
}

export async function registryRoutes(app: FastifyInstance, { registry }: RegistryRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  await shareRoutes(app, { registry });

  r.get(
    '/models',
    {
      schema: {
        tags,
        summary: 'List the models of your org',
        querystring: listQuery,
        response: { 200: pageOf(modelDto) },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await registry.list(principalOf(req), q.limit, q.cursor);
      const result = page(
        rows.map((r) => ({ id: r.model.id, ...r })),
        q.limit,
      );
      return {
        data: result.data.map((r) => toModelDto(r.model, r.versions)),
        next_cursor: result.next_cursor,
      };
    },
  );

  r.post(
    '/models',
    {
      schema: {
        tags,
        summary: 'Register a model; its version "1" gets all traffic',
        body: createModelBody,
        response: { 201: modelDto },
      },
    },
    async (req, reply) => {
      const { model, versions } = await registry.create(principalOf(req), req.body, auditContextOf(req));
      return reply.code(201).send(toModelDto(model, versions));
    },
  );

  r.get(
    '/models/:id',
    {
      schema: {
        tags,
        summary: 'Get a model with its versions',
        params: idParams,
        response: { 200: modelDto },
      },
    },
    async (req) => {
      const { model, versions } = await registry.get(principalOf(req), req.params.id);
      return toModelDto(model, versions);
    },
  );

  r.patch(
    '/models/:id',
    {
      schema: {
        tags,
        summary: 'Change a model: names, defaults, access, fallbacks, lifecycle status',
        params: idParams,
        body: updateModelBody,
        response: { 200: modelDto },
      },
    },
    async (req) => {
      const { model, versions } = await registry.update(
        principalOf(req),
        req.params.id,
        req.body,
        auditContextOf(req),
      );
      return toModelDto(model, versions);
    },
  );

  r.delete(
    '/models/:id',
    {
      schema: {
        tags,
        summary: 'Delete a model and its versions',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await registry.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/models/:id/versions',
    {
      schema: {
        tags,
        summary: 'List the versions of a model',
        params: idParams,
        response: { 200: z.object({ data: z.array(versionDto), next_cursor: z.null() }) },
      },
    },
    async (req) => {
      const rows = await registry.listVersions(principalOf(req), req.params.id);
      return { data: rows.map(toVersionDto), next_cursor: null };
    },
  );

  r.post(
    '/models/:id/versions',
    {
      schema: {
        tags,
        summary: 'Add a version with its own targets; it gets no traffic until you shift some',
        params: idParams,
        body: createVersionBody,
        response: { 201: versionDto },
      },
    },
    async (req, reply) => {
      const row = await registry.createVersion(
        principalOf(req),
        req.params.id,
        req.body,
        auditContextOf(req),
      );
      return reply.code(201).send(toVersionDto(row));
    },
  );

  r.patch(
    '/models/:id/versions/:version',
    {
      schema: {
        tags,
        summary: "Change a version's targets or pricing",
        params: versionParams,
        body: updateVersionBody,
        response: { 200: versionDto },
      },
    },
    async (req) =>
      toVersionDto(
        await registry.updateVersion(
          principalOf(req),
          req.params.id,
          req.params.version,
          req.body,
          auditContextOf(req),
        ),
      ),
  );

  r.put(
    '/models/:id/traffic',
    {
      schema: {
        tags,
        summary: 'Split traffic between versions by weight (canary); roll back by moving it back',
        params: idParams,
        body: trafficBody,
        response: { 200: modelDto },
      },
    },
    async (req) => {
      const { model, versions } = await registry.setTraffic(
        principalOf(req),
        req.params.id,
        req.body.weights,
        auditContextOf(req),
      );
      return toModelDto(model, versions);
    },
  );
}
