import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listQuery, page, pageOf } from '../../http/pagination.ts';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { auditContextOf } from '../../http/request-context.ts';
import type { TargetState } from '../gateway/index.ts';
import {
  connectionTestDto,
  createProviderBody,
  type HealthDto,
  providerDto,
  updateProviderBody,
} from './dto.ts';
import type { ProbeResult } from './health.ts';
import type { ProviderService } from './service.ts';

const tags = ['providers'];

const probeDto = (r: ProbeResult) => ({
  ok: r.ok,
  at: r.at.toISOString(),
  latency_ms: r.latencyMs,
  status_code: r.statusCode,
  error: r.error,
});

export interface ProviderRouteDeps {
  providers: ProviderService;
  /** the gateway's circuit breakers for a provider's targets, for its health */
  targetStates: (providerId: string) => TargetState[];
}

export async function providerRoutes(app: FastifyInstance, { providers, targetStates }: ProviderRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  const healthOf = (id: string): HealthDto => {
    const targets = targetStates(id);
    const open = targets.filter((t) => t.state === 'open').length;
    const h = providers.health.snapshot(id, { open, total: targets.length });
    return {
      status: h.status,
      last_probe: h.lastProbe ? probeDto(h.lastProbe) : null,
      error_rate: h.errorRate,
      requests: h.requests,
      window_s: h.windowS,
      targets,
    };
  };

  r.get(
    '/providers',
    {
      schema: {
        tags,
        summary: 'List the upstream providers of your org',
        querystring: listQuery,
        response: { 200: pageOf(providerDto) },
      },
    },
    async (req) => {
      const q = req.query;
      const result = page(await providers.list(principalOf(req), q.limit, q.cursor), q.limit);
      return { data: result.data.map(providers.dtoOf), next_cursor: result.next_cursor };
    },
  );

  r.post(
    '/providers',
    {
      schema: {
        tags,
        summary:
          'Add an upstream provider (OpenAI-compatible server or Anthropic); credentials are stored encrypted',
        body: createProviderBody,
        response: { 201: providerDto },
      },
    },
    async (req, reply) => {
      const row = await providers.create(principalOf(req), req.body, auditContextOf(req));
      return reply.code(201).send(providers.dtoOf(row));
    },
  );

  r.get(
    '/providers/:id',
    {
      schema: {
        tags,
        summary: 'Get a provider with its health',
        params: idParams,
        response: { 200: providerDto },
      },
    },
    async (req) => {
      const row = await providers.get(principalOf(req), req.params.id);
      return { ...providers.dtoOf(row), health: healthOf(row.id) };
    },
  );

  r.patch(
    '/providers/:id',
    {
      schema: {
        tags,
        summary: 'Change a provider; the change reaches every replica within a second',
        params: idParams,
        body: updateProviderBody,
        response: { 200: providerDto },
      },
    },
    async (req) =>
      providers.dtoOf(await providers.update(principalOf(req), req.params.id, req.body, auditContextOf(req))),
  );

  r.delete(
    '/providers/:id',
    {
      schema: {
        tags,
        summary: 'Delete a provider no model uses',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await providers.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/providers/:id/test',
    {
      schema: {
        tags,
        summary: "Test the connection: calls the upstream's model list and reports ok, latency and error",
        params: idParams,
        response: { 200: connectionTestDto },
      },
    },
    async (req) => {
      const result = await providers.test(principalOf(req), req.params.id);
      return { ...probeDto(result), ...(result.models ? { models: result.models } : {}) };
    },
  );
}
