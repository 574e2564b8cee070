import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { page, pageOf } from '../../http/pagination.ts';
import { principalOf } from '../../http/principal.ts';
import { actorOf } from '../../http/request-context.ts';
import type { IdentityService } from '../identity/index.ts';
import {
  apiKeyDto,
  createKeyBody,
  issuedKeyDto,
  keyParams,
  listKeysQuery,
  rotateKeyBody,
  toApiKeyDto,
  updateKeyBody,
} from './key-dto.ts';
import type { KeyService } from './service.ts';

const tags = ['keys'];
const toDate = (v: string | null | undefined) =>
  v === undefined ? undefined : v === null ? null : new Date(v);

export interface KeyRouteDeps {
  keys: KeyService;
  /** a key's project must be in the caller's org */
  identity: Pick<IdentityService, 'requireProject'>;
}

export async function keyRoutes(app: FastifyInstance, { keys, identity }: KeyRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/keys',
    {
      schema: {
        tags,
        summary: 'Create an API key; the secret is in `key` and is shown only in this response',
        body: createKeyBody,
        response: { 201: issuedKeyDto },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const b = req.body;
      const { row, secret } = await keys.create(
        actor,
        {
          name: b.name,
          projectId: b.project_id,
          scopes: b.scopes,
          models: b.models,
          expiresAt: toDate(b.expires_at),
          metadata: b.metadata,
        },
        (tx, orgId, projectId) => identity.requireProject(tx, orgId, projectId),
      );
      return reply.code(201).send({ ...toApiKeyDto(row), key: secret });
    },
  );

  r.get(
    '/keys',
    {
      schema: {
        tags,
        summary: 'List the API keys of your org, newest first',
        querystring: listKeysQuery,
        response: { 200: pageOf(apiKeyDto) },
      },
    },
    async (req) => {
      const principal = principalOf(req);
      const q = req.query;
      const rows = await keys.list(principal.orgId, { projectId: q.project_id }, q.limit, q.cursor);
      const result = page(rows, q.limit);
      return { data: result.data.map((row) => toApiKeyDto(row)), next_cursor: result.next_cursor };
    },
  );

  r.get(
    '/keys/:id',
    {
      schema: { tags, summary: 'Get an API key', params: keyParams, response: { 200: apiKeyDto } },
    },
    async (req) => {
      const principal = principalOf(req);
      return toApiKeyDto(await keys.get(principal.orgId, req.params.id));
    },
  );

  r.patch(
    '/keys/:id',
    {
      schema: {
        tags,
        summary: 'Change the name, models, metadata or expiry of an API key',
        params: keyParams,
        body: updateKeyBody,
        response: { 200: apiKeyDto },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const b = req.body;
      const row = await keys.update(actor, req.params.id, {
        name: b.name,
        models: b.models,
        metadata: b.metadata,
        expiresAt: toDate(b.expires_at),
      });
      return toApiKeyDto(row);
    },
  );

  r.post(
    '/keys/:id/rotate',
    {
      schema: {
        tags,
        summary: 'Issue a new secret; the previous one keeps working for the grace period',
        params: keyParams,
        body: rotateKeyBody,
        response: { 200: issuedKeyDto },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const { row, secret } = await keys.rotate(actor, req.params.id, req.body?.grace_period_seconds ?? 0);
      return { ...toApiKeyDto(row), key: secret };
    },
  );

  r.delete(
    '/keys/:id',
    {
      schema: {
        tags,
        summary: 'Revoke an API key at once, on every replica',
        params: keyParams,
        response: { 204: z.null().describe('revoked') },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      await keys.revoke(actor, req.params.id);
      return reply.code(204).send(null);
    },
  );
}
