import { HOP_HEADER } from '@maas/outbound';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/app-error.ts';

/**
 * maas marks every upstream request with its hop header; one that arrives carrying it was sent by
 * a maas (this one or another) to itself through a provider: refused before it is authenticated,
 * routed or metered, so a loop ends at the first hop. A header lookup per request, nothing more.
 */
export function refuseLoops(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  if (req.headers[HOP_HEADER] === undefined) {
    done();
    return;
  }
  done(
    new AppError(
      'loop_detected',
      `This request already passed through maas (${HOP_HEADER}); a provider must not point back at maas.`,
    ),
  );
}
