import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { page, pageOf } from '../../http/pagination.ts';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { actorOf } from '../../http/request-context.ts';
import { createJoinTokenBody, listDeploymentsQuery, updateNodeBody } from './bodies.ts';
import { joinTokenDto, nodeDto, toJoinTokenDto, toNodeDto } from './dto.ts';
import type { Fleet } from './fleet.ts';

export async function nodeRoutes(app: FastifyInstance, { fleet }: { fleet: Fleet }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const nodeSvc = fleet.nodesSvc;

  // ---- nodes and join tokens (platform resources)
  const ntags = ['nodes'];
  r.get(
    '/nodes',
    {
      schema: {
        tags: ntags,
        summary: 'List nodes (platform admins)',
        querystring: listDeploymentsQuery,
        response: { 200: pageOf(nodeDto) },
      },
    },
    async (req) => {
      const result = page(
        await nodeSvc.list(principalOf(req), req.query.limit, req.query.cursor),
        req.query.limit,
      );
      return { data: result.data.map(toNodeDto), next_cursor: result.next_cursor };
    },
  );
  r.get(
    '/nodes/:id',
    {
      schema: {
        tags: ntags,
        summary: 'Get a node: GPUs, memory, runtimes, files (platform admins)',
        params: idParams,
        response: { 200: nodeDto },
      },
    },
    async (req) => toNodeDto(await nodeSvc.get(principalOf(req), req.params.id)),
  );
  r.patch(
    '/nodes/:id',
    {
      schema: {
        tags: ntags,
        summary: "Change a node's labels, or whether tenants' deployments may run on it",
        description:
          "`tenant_workloads`: may replicas of deployments not written by a platform admin run here? Default true, except on the local node inside `maas serve` (it runs as the server's user): set it true there to let tenants use it.",
        params: idParams,
        body: updateNodeBody,
        response: { 200: nodeDto },
      },
    },
    async (req) => toNodeDto(await nodeSvc.update(actorOf(req), req.params.id, req.body)),
  );
  for (const action of ['cordon', 'uncordon', 'drain'] as const) {
    const summary = {
      cordon: 'Place no new replicas on the node',
      uncordon: 'Accept new replicas again (also ends a drain)',
      drain: 'Move every replica elsewhere (each stops once its replacement runs)',
    }[action];
    r.post(
      `/nodes/:id/${action}`,
      { schema: { tags: ntags, summary, params: idParams, response: { 200: nodeDto } } },
      async (req) => toNodeDto(await nodeSvc[action](actorOf(req), req.params.id)),
    );
  }
  r.delete(
    '/nodes/:id',
    {
      schema: {
        tags: ntags,
        summary: 'Remove a node that runs nothing',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await nodeSvc.remove(actorOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  const jtags = ['nodes'];
  r.post(
    '/join-tokens',
    {
      schema: {
        tags: jtags,
        summary:
          'Create a join token for `maas agent --token` (single-use and valid for 24 h unless max_uses or expires_in_seconds say otherwise); the secret is shown only here',
        body: createJoinTokenBody,
        response: { 201: joinTokenDto.extend({ token: z.string() }) },
      },
    },
    async (req, reply) => {
      const { row, token } = await nodeSvc.createJoinToken(actorOf(req), req.body);
      return reply.code(201).send({ ...toJoinTokenDto(row), token });
    },
  );
  r.get(
    '/join-tokens',
    {
      schema: {
        tags: jtags,
        summary: 'List join tokens (platform admins)',
        querystring: listDeploymentsQuery,
        response: { 200: pageOf(joinTokenDto) },
      },
    },
    async (req) => {
      const result = page(
        await nodeSvc.listJoinTokens(principalOf(req), req.query.limit, req.query.cursor),
        req.query.limit,
      );
      return { data: result.data.map(toJoinTokenDto), next_cursor: result.next_cursor };
    },
  );
  r.delete(
    '/join-tokens/:id',
    {
      schema: {
        tags: jtags,
        summary: 'Revoke a join token (registered nodes keep their own credential)',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await nodeSvc.revokeJoinToken(actorOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
