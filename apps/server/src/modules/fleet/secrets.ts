import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../crypto/secret-box.ts';

export const JOIN_TOKEN_PREFIX = 'maas-join-';
export const NODE_TOKEN_PREFIX = 'maas-node-';
/** what a replica's runtime requires as `Authorization: Bearer …` */
export const REPLICA_KEY_PREFIX = 'maas-replica-';

/** A random secret with a recognisable prefix: shown once, stored as its SHA-256. */
export function issueFleetSecret(prefix: string): { secret: string; hash: string; display: string } {
  const secret = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: sha256Hex(secret), display: secret.slice(0, prefix.length + 4) };
}

export const hashFleetSecret = (secret: string): string => sha256Hex(secret);
