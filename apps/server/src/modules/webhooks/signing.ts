import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * The three Standard Webhooks headers for one attempt: the message id stays the same across
 * retries (receivers dedupe on it), the timestamp is the attempt's, and every secret still valid
 * signs (`v1,<sig> v1,<sig>`), so a receiver holding either side of a rotation verifies.
 */
export function signMessage(
  secrets: readonly string[],
  messageId: string,
  at: Date,
  payload: string,
): SignedHeaders {
  if (secrets.length === 0) throw new Error('no signing secret');
  const signature = secrets.map((s) => new Webhook(s).sign(messageId, at, payload)).join(' ');
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/** Removes anything shaped like a secret from text a receiver sent back (kept for the log). */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    out = out.split(s).join('[redacted]');
    const bare = s.startsWith(SECRET_PREFIX) ? s.slice(SECRET_PREFIX.length) : '';
    if (bare) out = out.split(bare).join('[redacted]');
  }
  return out
    .replace(/whsec_[A-Za-z0-9+/=_-]*/g, '[redacted]')
    .replace(/\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, '[redacted]')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
    .replace(/\bv1,[A-Za-z0-9+/=]{20,}/g, '[redacted]');
}
