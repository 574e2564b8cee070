import type { FastifyInstance } from 'fastify';
import { authenticateKey, type VerifyKey } from './authenticate-key.ts';
import { refuseLoops } from './refuse-loop.ts';
import { ownRequestId } from './request-id.ts';

/**
 * The hooks every /v1 route runs before its handler, for /v1 resources registered outside the
 * gateway's plugin (files, batches): the gateway's own request id, loop refusal, the API key.
 */
export function addKeyAuth(app: FastifyInstance, verify: VerifyKey): void {
  app.addHook('onRequest', ownRequestId);
  app.addHook('onRequest', refuseLoops);
  app.addHook('onRequest', authenticateKey(verify));
}
