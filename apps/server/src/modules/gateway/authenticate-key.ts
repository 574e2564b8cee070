import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/app-error.ts';
import { bearerToken } from '../../http/authenticate.ts';
import type { KeyPrincipal } from '../../http/principal.ts';

export type VerifyKey = (secret: string) => KeyPrincipal | null | Promise<KeyPrincipal | null>;

/**
 * /v1 authenticates itself: an API key (Authorization: Bearer sk-maas-… or x-api-key) holding
 * the `inference` scope, verified against the in-process key cache.
 */
export function authenticateKey(verify: VerifyKey) {
  const admit = (req: FastifyRequest, key: KeyPrincipal | null): void => {
    if (!key)
      throw new AppError(
        'invalid_api_key',
        'Incorrect API key provided, or the key was revoked or has expired.',
      );
    if (!key.scopes.includes('inference')) {
      throw new AppError(
        'forbidden',
        'This API key may not call the inference API (it lacks the inference scope).',
      );
    }
    req.principal = key;
  };
  // Callback-style: a key from the cache is verified without a promise or a tick.
  return (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    let found: ReturnType<VerifyKey>;
    try {
      const secret = bearerToken(req);
      if (!secret) {
        throw new AppError(
          'invalid_api_key',
          "You didn't provide an API key. Send it as Authorization: Bearer sk-maas-…",
        );
      }
      found = verify(secret);
      if (!(found instanceof Promise)) admit(req, found);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (found instanceof Promise) found.then((key) => admit(req, key)).then(() => done(), done);
    else done();
  };
}
