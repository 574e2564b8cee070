import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listQuery, page, pageOf } from '../../http/pagination.ts';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { auditContextOf } from '../../http/request-context.ts';
import {
  createEndpointBody,
  deliveryDto,
  deliveryQuery,
  endpointDto,
  endpointWithSecretDto,
  rotateSecretBody,
  toDeliveryDto,
  toEndpointDto,
  updateEndpointBody,
} from './dto.ts';
import type { WebhookService } from './service.ts';

const tags = ['webhooks'];

export async function webhookRoutes(app: FastifyInstance, { webhooks }: { webhooks: WebhookService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { endpoints, deliveries } = webhooks;

  r.get(
    '/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'List the webhook endpoints of your org',
        querystring: listQuery,
        response: { 200: pageOf(endpointDto) },
      },
    },
    async (req) => {
      const q = req.query;
      const result = page(await endpoints.list(principalOf(req), q.limit, q.cursor), q.limit);
      return { data: result.data.map((row) => toEndpointDto(row)), next_cursor: result.next_cursor };
    },
  );

  r.post(
    '/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'Add a webhook endpoint; its signing secret (whsec_…) is in this response only',
        body: createEndpointBody,
        response: { 201: endpointWithSecretDto },
      },
    },
    async (req, reply) => {
      const { row, secret } = await endpoints.create(principalOf(req), req.body, auditContextOf(req));
      return reply.code(201).send({ ...toEndpointDto(row), secret });
    },
  );

  r.get(
    '/webhook-endpoints/:id',
    { schema: { tags, summary: 'Get a webhook endpoint', params: idParams, response: { 200: endpointDto } } },
    async (req) => toEndpointDto(await endpoints.get(principalOf(req), req.params.id)),
  );

  r.patch(
    '/webhook-endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Change a webhook endpoint (enabling it again clears why maas disabled it)',
        params: idParams,
        body: updateEndpointBody,
        response: { 200: endpointDto },
      },
    },
    async (req) =>
      toEndpointDto(await endpoints.update(principalOf(req), req.params.id, req.body, auditContextOf(req))),
  );

  r.delete(
    '/webhook-endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Delete a webhook endpoint and its delivery log',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await endpoints.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        tags,
        summary:
          'A new signing secret, in this response only; the previous one keeps signing alongside it for the grace period',
        params: idParams,
        body: rotateSecretBody,
        response: { 200: endpointWithSecretDto },
      },
    },
    async (req) => {
      const { row, secret } = await endpoints.rotateSecret(
        principalOf(req),
        req.params.id,
        req.body.grace_period_s,
        auditContextOf(req),
      );
      return { ...toEndpointDto(row), secret };
    },
  );

  r.post(
    '/webhook-endpoints/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a webhook.test event to this endpoint (whatever its filters); returns the delivery',
        params: idParams,
        response: { 202: deliveryDto },
      },
    },
    async (req, reply) => {
      const row = await deliveries.sendTest(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(202).send(toDeliveryDto(row));
    },
  );

  r.get(
    '/webhook-endpoints/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'The delivery log of an endpoint, newest first',
        params: idParams,
        querystring: deliveryQuery,
        response: { 200: pageOf(deliveryDto) },
      },
    },
    async (req) => {
      const q = req.query;
      const result = page(await deliveries.list(principalOf(req), req.params.id, q), q.limit);
      return { data: result.data.map(toDeliveryDto), next_cursor: result.next_cursor };
    },
  );

  r.get(
    '/webhook-deliveries/:id',
    { schema: { tags, summary: 'Get a webhook delivery', params: idParams, response: { 200: deliveryDto } } },
    async (req) => toDeliveryDto(await deliveries.get(principalOf(req), req.params.id)),
  );

  r.post(
    '/webhook-deliveries/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send a delivery again now (same webhook-id and body), with a fresh retry window',
        params: idParams,
        response: { 202: deliveryDto },
      },
    },
    async (req, reply) => {
      const row = await deliveries.replay(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(202).send(toDeliveryDto(row));
    },
  );
}
