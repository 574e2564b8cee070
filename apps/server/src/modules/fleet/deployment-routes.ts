import { redactLine } from '@maas/contracts/agent';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { page, pageOf } from '../../http/pagination.ts';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { actorOf } from '../../http/request-context.ts';
import {
  createDeploymentBody,
  listDeploymentsQuery,
  listReplicasQuery,
  updateDeploymentBody,
} from './bodies.ts';
import { deploymentDto, replicaDto, toReplicaDto } from './dto.ts';
import type { Fleet } from './fleet.ts';

const funnelStage = z.object({
  stage: z.string(),
  nodes: z.number(),
  dropped: z.record(z.string(), z.number()).optional(),
});
const evaluationDto = z.object({
  fits: z.boolean(),
  replicas: z.number(),
  estimate: deploymentDto.shape.estimate,
  memory_per_replica: z.number().nullable(),
  placements: z.array(
    z.object({
      node_id: z.string(),
      node_name: z.string(),
      gpu_indexes: z.array(z.number()),
      port: z.number(),
      score: z.number(),
    }),
  ),
  funnel: z.array(funnelStage),
  reason: z.string().nullable(),
});
const logsQuery = z.strictObject({ tail: z.coerce.number().int().min(1).max(1000).default(200) });

export async function deploymentRoutes(app: FastifyInstance, { fleet }: { fleet: Fleet }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const deps = fleet.deploymentsSvc;

  // ---- deployments (org resources)
  const dtags = ['deployments'];
  r.post(
    '/deployments',
    {
      schema: {
        tags: dtags,
        summary: 'Deploy a model onto the fleet; running replicas become gateway targets',
        body: createDeploymentBody,
        response: { 201: deploymentDto },
      },
    },
    async (req, reply) => reply.code(201).send(await deps.create(actorOf(req), req.body)),
  );
  r.post(
    '/deployments/evaluate',
    {
      schema: {
        tags: dtags,
        summary: 'Dry run: where replicas would go, the scheduler funnel and why nothing fits',
        description:
          'Needs write permission and is checked like a create (who may set what) before any model is read.',
        body: createDeploymentBody,
        response: { 200: evaluationDto },
      },
    },
    async (req) => deps.evaluate(principalOf(req), req.body),
  );
  r.get(
    '/deployments',
    {
      schema: {
        tags: dtags,
        summary: 'List deployments of your org',
        querystring: listDeploymentsQuery,
        response: { 200: pageOf(deploymentDto) },
      },
    },
    async (req) => {
      const rows = await deps.list(principalOf(req), req.query.limit, req.query.cursor);
      const result = page(rows, req.query.limit);
      return { data: result.data.map((x) => x.dto), next_cursor: result.next_cursor };
    },
  );
  r.get(
    '/deployments/:id',
    {
      schema: {
        tags: dtags,
        summary: 'Get a deployment with its replicas',
        params: idParams,
        response: { 200: deploymentDto },
      },
    },
    async (req) => deps.get(principalOf(req), req.params.id),
  );
  r.patch(
    '/deployments/:id',
    {
      schema: {
        tags: dtags,
        summary: 'Scale, or roll out a new version (one replica at a time, or as a canary)',
        params: idParams,
        body: updateDeploymentBody,
        response: { 200: deploymentDto },
      },
    },
    async (req) => deps.update(actorOf(req), req.params.id, req.body),
  );
  r.post(
    '/deployments/:id/rollback',
    {
      schema: {
        tags: dtags,
        summary: 'Return to the version before the last update',
        params: idParams,
        response: { 200: deploymentDto },
      },
    },
    async (req) => deps.rollback(actorOf(req), req.params.id),
  );
  r.post(
    '/deployments/:id/promote',
    {
      schema: {
        tags: dtags,
        summary: 'End a canary: roll the new version out to every replica',
        params: idParams,
        response: { 200: deploymentDto },
      },
    },
    async (req) => deps.promote(actorOf(req), req.params.id),
  );
  r.delete(
    '/deployments/:id',
    {
      schema: {
        tags: dtags,
        summary: 'Stop every replica (after it leaves the gateway) and delete the deployment',
        params: idParams,
        response: { 202: z.null() },
      },
    },
    async (req, reply) => {
      await deps.remove(actorOf(req), req.params.id);
      return reply.code(202).send(null);
    },
  );

  // ---- replicas
  const rtags = ['replicas'];
  r.get(
    '/replicas',
    {
      schema: {
        tags: rtags,
        summary: 'List replicas of your org, newest first',
        querystring: listReplicasQuery,
        response: { 200: pageOf(replicaDto) },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await deps.listReplicas(
        principalOf(req),
        { deploymentId: q.deployment_id, nodeId: q.node_id },
        q.limit,
        q.cursor,
      );
      const result = page(rows, q.limit);
      return { data: result.data.map(toReplicaDto), next_cursor: result.next_cursor };
    },
  );
  r.get(
    '/replicas/:id',
    {
      schema: {
        tags: rtags,
        summary: 'Get a replica: state, reason, node, endpoint',
        params: idParams,
        response: { 200: replicaDto },
      },
    },
    async (req) => toReplicaDto(await deps.getReplica(principalOf(req), req.params.id)),
  );
  r.post(
    '/replicas/:id/restart',
    {
      schema: {
        tags: rtags,
        summary:
          'Replace a replica with a fresh one (it leaves the gateway now and stops after the drain period)',
        params: idParams,
        response: { 200: replicaDto },
      },
    },
    async (req) => fleet.restartReplica(actorOf(req), req.params.id),
  );
  r.get(
    '/replicas/:id/logs',
    {
      schema: {
        tags: rtags,
        summary: "The replica's recent runtime log lines, oldest first (secret shapes redacted)",
        params: idParams,
        querystring: logsQuery,
        response: { 200: z.object({ replica_id: z.string(), lines: z.array(z.string()) }) },
      },
    },
    async (req) => {
      const row = await deps.getReplica(principalOf(req), req.params.id);
      return { replica_id: row.id, lines: row.logTail.slice(-req.query.tail).map((l) => redactLine(l)) };
    },
  );
}
