import { hkdfSync } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { AppError } from '../../http/app-error.ts';

export interface AccessClaims {
  userId: string;
  orgId: string;
  sessionId: string;
}

/** Short-lived HS256 access tokens; the signing key is derived from MAAS_SECRET_KEY. */
export function createAccessTokens(secretKey: Buffer, ttlSeconds: number) {
  const key = new Uint8Array(hkdfSync('sha256', secretKey, 'maas', 'access-token-signing', 32));
  return {
    ttlSeconds,
    sign(claims: AccessClaims): Promise<string> {
      return new SignJWT({ org: claims.orgId, sid: claims.sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer('maas')
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token: string): Promise<AccessClaims> {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: 'maas', algorithms: ['HS256'] });
        if (
          typeof payload.sub !== 'string' ||
          typeof payload.org !== 'string' ||
          typeof payload.sid !== 'string'
        ) {
          throw new Error('missing claims');
        }
        return { userId: payload.sub, orgId: payload.org, sessionId: payload.sid };
      } catch {
        throw new AppError('invalid_token', 'invalid or expired access token');
      }
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
