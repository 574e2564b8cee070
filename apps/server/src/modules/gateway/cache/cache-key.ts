import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// CommonJS whose types declare an ES default export; at run time the default is the function
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/**
 * Fields that do not change the answer: who asks (`user`), how it is delivered, and the name the
 * caller used for the model (an alias, or `<owner>/<name>` in another org; the key has its id).
 */
const IGNORED = new Set(['model', 'user', 'stream', 'stream_options']);

/**
 * The cache key of a request: SHA-256 over its scope (the caller's org; the model itself when its
 * answers are shared across orgs), the model, the endpoint, the guardrails in force and the body in
 * canonical JSON (RFC 8785, so key order and spacing do not matter) without the ignored fields.
 */
export function cacheKey(
  scope: string,
  modelId: string,
  endpoint: string,
  guardFingerprint: string,
  body: Record<string, unknown>,
): string {
  const kept: Record<string, unknown> = {};
  for (const k of Object.keys(body)) if (!IGNORED.has(k)) kept[k] = body[k];
  const hash = createHash('sha256');
  hash.update(`${scope}\u0000${modelId}\u0000${endpoint}\u0000${guardFingerprint}\u0000`);
  hash.update(canonicalize(kept) ?? '');
  return `maas:rc:${hash.digest('base64url')}`;
}
