import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './app-error.ts';
import type { KeyPrincipal, Principal, UserPrincipal } from './principal.ts';

export interface Authenticator {
  verifyAccessToken(token: string): Promise<UserPrincipal>;
  /** From the in-process key cache; null when the key is unknown, revoked or expired. */
  verifyApiKey(secret: string): KeyPrincipal | null | Promise<KeyPrincipal | null>;
}

export const API_KEY_PREFIX = 'sk-maas-';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** routes that need no credentials (login, health …) */
    public?: boolean;
  }
}

export function bearerToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (header) {
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() === 'bearer' && token) return token.trim();
    return null;
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey ? apiKey : null;
}

/**
 * Admin routes: a JWT access token, or an API key holding an admin scope. Added to the `/api/v1`
 * plugin itself (never matched on the URL: `/%61pi/v1/…` reaches the same routes as `/api/v1/…`).
 * Routes marked `config.public` skip this.
 */
export function registerAdminAuth(api: FastifyInstance, auth: Authenticator): void {
  api.addHook('preHandler', (req, _reply, done) => {
    if (req.routeOptions.config.public) return done();
    authenticateAdmin(req, auth).then((principal) => {
      req.principal = principal;
      done();
    }, done);
  });
}

async function authenticateAdmin(req: FastifyRequest, auth: Authenticator): Promise<Principal> {
  const token = bearerToken(req);
  if (!token)
    throw new AppError('unauthenticated', 'missing credentials: send Authorization: Bearer <token>');
  if (token.startsWith(API_KEY_PREFIX)) {
    const key = await auth.verifyApiKey(token);
    if (!key) throw new AppError('invalid_api_key', 'invalid, expired or revoked API key');
    if (!key.scopes.includes('admin:read') && !key.scopes.includes('admin:write')) {
      throw new AppError('forbidden', 'this API key has no admin scope');
    }
    return key;
  }
  return auth.verifyAccessToken(token);
}
