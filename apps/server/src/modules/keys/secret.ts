import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../crypto/secret-box.ts';
import { API_KEY_PREFIX } from '../../http/authenticate.ts';

export { API_KEY_PREFIX };

/** How many characters of the secret after `sk-maas-` are kept for display. */
const DISPLAY_CHARS = 4;

export interface IssuedSecret {
  /** shown to the caller once, never stored */
  secret: string;
  hash: string;
  /** e.g. `sk-maas-AbCd`, enough to tell keys apart in a list */
  prefix: string;
}

/** `sk-maas-` followed by 32 random bytes in base64url (43 characters). */
export function issueSecret(): IssuedSecret {
  const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashSecret(secret), prefix: secret.slice(0, API_KEY_PREFIX.length + DISPLAY_CHARS) };
}

export function hashSecret(secret: string): string {
  return sha256Hex(secret);
}
