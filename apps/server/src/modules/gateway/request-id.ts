import type { FastifyReply, FastifyRequest } from 'fastify';
import { newId } from '../../ids.ts';

/**
 * On /v1 the request id is always the gateway's own, as on OpenAI's API: it keys the request's one
 * usage event, so a caller re-sending an id of its choice must not make later requests collide with
 * (and vanish behind) an earlier one. A caller's own id comes back as `x-client-request-id`.
 */
export function ownRequestId(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const given = req.headers['x-request-id'];
  if (given !== undefined && given === req.id) {
    reply.header('x-client-request-id', given);
    req.id = newId('req');
    reply.header('x-request-id', req.id);
  }
  done();
}
