import canonicalizeModule from 'canonicalize';
import { sha256Hex } from '../../crypto/secret-box.ts';

// The package is CommonJS whose types declare an ES default export; at run time the default is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;

export const GENESIS_HASH = '0'.repeat(64);

export interface HashedFields {
  id: string;
  chain: string;
  org_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  before: unknown;
  after: unknown;
  created_at: string;
}

/** SHA-256 over `prev_hash` and the RFC 8785 canonical JSON of the event. */
export function hashEvent(prevHash: string, fields: HashedFields): string {
  return sha256Hex(`${prevHash}\n${canonicalize(fields)}`);
}

const SECRET_FIELD = /(password|secret|token|api_?key|authorization|hash)$/i;

/** Copies a value for the trail with secret-looking fields replaced; also drops undefined values. */
export function redact(value: unknown): unknown {
  if (value === undefined) return null;
  const plain = JSON.parse(JSON.stringify(value)) as unknown;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, inner]) => [
          k,
          SECRET_FIELD.test(k) && inner !== null ? '[REDACTED]' : walk(inner),
        ]),
      );
    }
    return v;
  };
  return walk(plain);
}
