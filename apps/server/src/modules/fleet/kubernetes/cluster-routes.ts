import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { page, pageOf } from '../../../http/pagination.ts';
import { idParams } from '../../../http/params.ts';
import { principalOf } from '../../../http/principal.ts';
import { actorOf } from '../../../http/request-context.ts';
import { listDeploymentsQuery } from '../bodies.ts';
import { clusterDto, createClusterBody, toClusterDto, updateClusterBody } from './cluster-dto.ts';
import type { ClusterService } from './cluster-service.ts';

/** Kubernetes clusters as placement targets (platform admins only). */
export async function clusterRoutes(app: FastifyInstance, { clusters }: { clusters: ClusterService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['clusters'];
  r.post(
    '/clusters',
    {
      schema: {
        tags,
        summary: 'Register a Kubernetes cluster as a placement target (platform admins)',
        description:
          'Deployments with `placement.cluster` run there as a Deployment + Service. The token is sealed at rest and never returned; `api_server` must pass the outbound policy (allow a private address with MAAS_OUTBOUND_ALLOW).',
        body: createClusterBody,
        response: { 201: clusterDto },
      },
    },
    async (req, reply) => {
      const row = await clusters.create(actorOf(req), req.body);
      return reply.code(201).send(toClusterDto(row));
    },
  );
  r.get(
    '/clusters',
    {
      schema: {
        tags,
        summary: 'List clusters (platform admins)',
        querystring: listDeploymentsQuery,
        response: { 200: pageOf(clusterDto) },
      },
    },
    async (req) => {
      const result = page(
        await clusters.list(principalOf(req), req.query.limit, req.query.cursor),
        req.query.limit,
      );
      return { data: result.data.map(toClusterDto), next_cursor: result.next_cursor };
    },
  );
  r.get(
    '/clusters/:id',
    {
      schema: {
        tags,
        summary: 'Get a cluster and its last sync (platform admins)',
        params: idParams,
        response: { 200: clusterDto },
      },
    },
    async (req) => toClusterDto(await clusters.get(principalOf(req), req.params.id)),
  );
  r.patch(
    '/clusters/:id',
    {
      schema: {
        tags,
        summary: "Change a cluster's settings or rotate its token (platform admins)",
        description:
          'The name and namespace stay. Deployments there are applied again with the new settings at the next pass; a new token is sealed like the first and never returned.',
        params: idParams,
        body: updateClusterBody,
        response: { 200: clusterDto },
      },
    },
    async (req) => toClusterDto(await clusters.update(actorOf(req), req.params.id, req.body)),
  );
  r.delete(
    '/clusters/:id',
    {
      schema: {
        tags,
        summary: 'Remove a cluster no deployment is placed on',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await clusters.remove(actorOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
