import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type CachedKeyRow, createKeyCache } from './key-cache.ts';
import { hashSecret } from './secret.ts';
import { createKeyVerifier, type VerifierOptions } from './verify-key.ts';

const log = pino({ level: 'silent' });
const secret = 'sk-maas-test-secret';
const row: CachedKeyRow = {
  id: 'key_1',
  orgId: 'org_1',
  projectId: 'prj_1',
  hash: hashSecret(secret),
  previousHash: null,
  previousExpiresAt: null,
  scopes: ['admin:read'],
  models: null,
  expiresAt: null,
  revokedAt: null,
};

/** A verifier whose database holds `rows`; counts the lookups it makes. */
function setup(rows: CachedKeyRow[], opts: Partial<VerifierOptions> = {}) {
  const cache = createKeyCache();
  const calls = { n: 0 };
  const verifier = createKeyVerifier({
    cache,
    log,
    findByHash: async (hash) => {
      calls.n += 1;
      await new Promise((r) => setTimeout(r, 5));
      const found = rows.find((r) => r.hash === hash || r.previousHash === hash);
      if (found) cache.set(found);
      return found;
    },
    ...opts,
  });
  return { cache, calls, verifier };
}

describe('verify key', () => {
  it('answers a cached key synchronously, with no lookup', () => {
    const { cache, calls, verifier } = setup([]);
    cache.set(row);
    expect(verifier.verify(secret)).toMatchObject({ keyId: 'key_1', scopes: ['admin:read'] });
    expect(calls.n).toBe(0);
  });

  it('refuses what is not a key without a lookup', () => {
    const { calls, verifier } = setup([]);
    expect(verifier.verify('Bearer nonsense')).toBeNull();
    expect(verifier.verify(`sk-maas-${'x'.repeat(500)}`)).toBeNull();
    expect(calls.n).toBe(0);
  });

  it('looks a miss up once, then serves it from the cache', async () => {
    const { calls, verifier } = setup([row]);
    const [a, b] = await Promise.all([verifier.verify(secret), verifier.verify(secret)]);
    expect(a).toMatchObject({ keyId: 'key_1' });
    expect(b).toBe(a);
    expect(calls.n).toBe(1);
    expect(verifier.verify(secret)).toBe(a);
  });

  it('remembers an unknown secret for a while, then asks again', async () => {
    let t = 0;
    const { calls, verifier } = setup([], { now: () => t, negativeTtlMs: 1000 });
    expect(await verifier.verify('sk-maas-unknown')).toBeNull();
    expect(verifier.verify('sk-maas-unknown')).toBeNull();
    expect(calls.n).toBe(1);
    t = 1000;
    expect(await verifier.verify('sk-maas-unknown')).toBeNull();
    expect(calls.n).toBe(2);
  });

  it('bounds concurrent lookups and their time', async () => {
    const { calls, verifier } = setup([], { maxInFlight: 2 });
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((s) => verifier.verify(`sk-maas-${s}`)));
    expect(results).toEqual([null, null, null, null]);
    expect(calls.n).toBe(2);

    const hung = createKeyVerifier({
      cache: createKeyCache(),
      log,
      lookupTimeoutMs: 20,
      findByHash: () => new Promise(() => {}),
    });
    expect(await hung.verify(secret)).toBeNull();
  });

  it('does not serve a revoked or expired row found on a miss', async () => {
    const { verifier } = setup([{ ...row, revokedAt: new Date() }]);
    expect(await verifier.verify(secret)).toBeNull();
    const expired = setup([{ ...row, expiresAt: new Date(Date.now() - 1) }]);
    expect(await expired.verifier.verify(secret)).toBeNull();
  });
});
