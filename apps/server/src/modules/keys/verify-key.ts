import type { Logger } from 'pino';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { CachedKeyRow, KeyCache } from './key-cache.ts';
import { API_KEY_PREFIX, hashSecret } from './secret.ts';

export interface VerifierOptions {
  cache: Pick<KeyCache, 'lookup'>;
  /** one database read for a hash the cache does not know (current or previous hash), put in the cache */
  findByHash(hash: string): Promise<CachedKeyRow | undefined>;
  log: Logger;
  now?: () => number;
  /** how long an unknown hash is answered from memory before the database is asked again */
  negativeTtlMs?: number;
  negativeMaxEntries?: number;
  /** at most this many misses are looked up at once; beyond that a miss is refused */
  maxInFlight?: number;
  lookupTimeoutMs?: number;
}

export type VerifyKey = (secret: string) => KeyPrincipal | null | Promise<KeyPrincipal | null>;

const MAX_SECRET_LENGTH = 256;
/** secrets of keys that verified, mapped to their hash: a client sends the same key on every request */
const MAX_KNOWN_SECRETS = 10_000;

/**
 * Verifies a presented secret against the in-process cache: SHA-256, one map lookup, expiry and
 * grace checks, synchronously. Only a miss (a key created on another replica whose push was lost)
 * reads the database, once per hash at a time, bounded in count and time, remembered briefly when
 * still unknown.
 */
export function createKeyVerifier(opts: VerifierOptions): { verify: VerifyKey; forget(hash: string): void } {
  const { cache, log } = opts;
  const now = opts.now ?? Date.now;
  const negativeTtlMs = opts.negativeTtlMs ?? 5_000;
  const negativeMax = opts.negativeMaxEntries ?? 10_000;
  const maxInFlight = opts.maxInFlight ?? 16;
  const timeoutMs = opts.lookupTimeoutMs ?? 2_000;
  const unknown = new Map<string, number>();
  const inFlight = new Map<string, Promise<KeyPrincipal | null>>();
  const knownHashes = new Map<string, string>();

  const hashOf = (secret: string) => knownHashes.get(secret) ?? hashSecret(secret);
  const rememberHash = (secret: string, hash: string) => {
    if (knownHashes.has(secret)) return;
    if (knownHashes.size >= MAX_KNOWN_SECRETS) {
      const oldest = knownHashes.keys().next().value;
      if (oldest !== undefined) knownHashes.delete(oldest);
    }
    knownHashes.set(secret, hash);
  };

  const rememberUnknown = (hash: string) => {
    if (unknown.size >= negativeMax) {
      const oldest = unknown.keys().next().value;
      if (oldest !== undefined) unknown.delete(oldest);
    }
    unknown.set(hash, now() + negativeTtlMs);
  };

  const lookUp = async (hash: string): Promise<KeyPrincipal | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const row = await Promise.race([opts.findByHash(hash), timeout]);
      if (row === 'timeout') {
        log.warn({ timeout_ms: timeoutMs }, 'api key lookup timed out');
        return null;
      }
      const found = cache.lookup(hash, now());
      if (found.status === 'hit') return found.principal;
      rememberUnknown(hash);
      return null;
    } catch (err) {
      log.warn({ err }, 'api key lookup failed');
      return null;
    } finally {
      clearTimeout(timer);
    }
  };

  const verify: VerifyKey = (secret) => {
    if (!secret.startsWith(API_KEY_PREFIX) || secret.length > MAX_SECRET_LENGTH) return null;
    const hash = hashOf(secret);
    const found = cache.lookup(hash, now());
    if (found.status === 'hit') {
      rememberHash(secret, hash);
      return found.principal;
    }
    if (found.status === 'refused') return null;
    const until = unknown.get(hash);
    if (until !== undefined) {
      if (until > now()) return null;
      unknown.delete(hash);
    }
    const pending = inFlight.get(hash);
    if (pending) return pending;
    if (inFlight.size >= maxInFlight) return null;
    const promise = lookUp(hash).finally(() => inFlight.delete(hash));
    inFlight.set(hash, promise);
    return promise;
  };

  return {
    verify,
    /** drops a hash from the negative cache (a push said this key changed) */
    forget(hash) {
      unknown.delete(hash);
    },
  };
}
