import { registerRequest, registerResponse, statusReport, statusResponse } from '@maas/contracts/agent';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bearerToken } from '../../http/authenticate.ts';
import type { AgentService } from './agent-service.ts';

/**
 * The agent protocol under /api/v1/agent (not in the OpenAPI document: agents, not people, call
 * it). Registration takes a join token; everything else the node credential.
 */
export async function agentRoutes(
  app: FastifyInstance,
  { agents, keepaliveMs = 15_000 }: { agents: AgentService; keepaliveMs?: number },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const streams = new Set<() => void>();
  // preClose, not onClose: watch streams never finish by themselves, and close() waits for them.
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });
  const hidden = { hide: true, tags: ['agent'] };

  r.post(
    '/agent/register',
    {
      config: { public: true },
      schema: { ...hidden, body: registerRequest, response: { 200: registerResponse } },
    },
    async (req) => agents.register(req.body, req.ip ?? null),
  );

  r.post(
    '/agent/status',
    {
      config: { public: true },
      bodyLimit: 16 * 1024 * 1024,
      schema: { ...hidden, body: statusReport, response: { 200: statusResponse } },
    },
    async (req) => {
      const node = await agents.authenticate(bearerToken(req));
      return agents.report(node, req.body, req.ip ?? null);
    },
  );

  r.get('/agent/desired', { config: { public: true }, schema: hidden }, async (req) => {
    const node = await agents.authenticate(bearerToken(req));
    return agents.desired(node.id);
  });

  /** Server-sent events: `desired` with the node's whole desired state on connect and on every change. */
  r.get('/agent/watch', { config: { public: true }, schema: hidden }, async (req, reply) => {
    const node = await agents.authenticate(bearerToken(req));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let last = '';
    let sending: Promise<void> = Promise.resolve();
    const send = () => {
      sending = sending
        .then(async () => {
          const state = await agents.desired(node.id);
          if (state.version === last || res.writableEnded) return;
          last = state.version;
          res.write(`event: desired\ndata: ${JSON.stringify(state)}\n\n`);
        })
        .catch((err: unknown) => req.log.warn({ err }, 'could not send desired state'));
    };
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), keepaliveMs);
    const unwatch = agents.watch(node.id, send);
    const end = () => {
      clearInterval(keepalive);
      unwatch();
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    req.raw.on('close', end);
    send();
  });
}
