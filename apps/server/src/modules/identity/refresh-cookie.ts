import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/app-error.ts';
import type { Issued } from './auth-service.ts';

/** The refresh token of browser sessions: HttpOnly, SameSite=Strict, sent only to /api/v1/auth. */
export const REFRESH_COOKIE = 'maas_refresh';
export const REFRESH_COOKIE_PATH = '/api/v1/auth';
/** A header a cross-site form or a simple request cannot carry: refresh by cookie needs it. */
export const CSRF_HEADER = 'x-maas-csrf';

export const tokenDeliverySchema = z
  .enum(['cookie', 'body'])
  .default('cookie')
  .describe(
    `"cookie" (browsers): the refresh token is set as the HttpOnly ${REFRESH_COOKIE} cookie and left out ` +
      'of the body. "body" (CLI, scripts): it is returned in the body and never set as a cookie.',
  );

/** Writes a token pair: the refresh token goes where the session's delivery says, never both. */
export function sendIssued(
  req: FastifyRequest,
  reply: FastifyReply,
  { pair, delivery }: Issued,
  ttlS: number,
) {
  if (delivery === 'body') return reply.send(pair);
  const { refresh_token, ...rest } = pair;
  setRefreshCookie(req, reply, refresh_token, ttlS);
  return reply.send(rest);
}

export function setRefreshCookie(req: FastifyRequest, reply: FastifyReply, token: string, ttlS: number) {
  reply.setCookie(REFRESH_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.protocol === 'https',
    path: REFRESH_COOKIE_PATH,
    maxAge: ttlS,
  });
}

export function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, { path: REFRESH_COOKIE_PATH, httpOnly: true, sameSite: 'strict' });
}

/**
 * The refresh token of a refresh request: the body's, or else the cookie's. The cookie counts only
 * on a JSON request carrying the CSRF header, which no cross-site page can send without CORS.
 */
export function refreshTokenOf(req: FastifyRequest): string {
  const fromBody = (req.body as { refresh_token?: string } | undefined)?.refresh_token;
  if (fromBody) return fromBody;
  const fromCookie = req.cookies[REFRESH_COOKIE];
  if (!fromCookie)
    throw new AppError(
      'invalid_token',
      `no refresh token: send refresh_token or the ${REFRESH_COOKIE} cookie`,
    );
  const json = /^application\/json\b/i.test(req.headers['content-type'] ?? '');
  if (!json || req.headers[CSRF_HEADER] !== '1')
    throw new AppError(
      'forbidden',
      `refreshing by cookie needs a JSON body and the header ${CSRF_HEADER}: 1`,
    );
  return fromCookie;
}
