import { describe, expect, it } from 'vitest';
import { type CachedKeyRow, createKeyCache } from './key-cache.ts';

const row = (over: Partial<CachedKeyRow> = {}): CachedKeyRow => ({
  id: 'key_1',
  orgId: 'org_1',
  projectId: 'prj_1',
  hash: 'h1',
  previousHash: null,
  previousExpiresAt: null,
  scopes: ['inference'],
  models: null,
  expiresAt: null,
  revokedAt: null,
  ...over,
});

describe('key cache', () => {
  it('finds a key by hash and builds its principal', () => {
    const cache = createKeyCache();
    cache.set(row({ models: ['m'] }));
    expect(cache.lookup('h1', Date.now())).toEqual({
      status: 'hit',
      principal: {
        kind: 'key',
        keyId: 'key_1',
        orgId: 'org_1',
        projectId: 'prj_1',
        scopes: ['inference'],
        models: ['m'],
        ownerUserId: null,
      },
    });
    expect(cache.lookup('h2', Date.now())).toEqual({ status: 'miss' });
  });

  it('names the user who created the key (a key made by another key has none)', () => {
    const cache = createKeyCache();
    cache.set(row({ createdBy: 'usr_1' }));
    cache.set(row({ id: 'key_2', hash: 'h9', createdBy: 'key_1' }));
    expect(cache.principalOf('key_1', Date.now())?.ownerUserId).toBe('usr_1');
    expect(cache.principalOf('key_2', Date.now())?.ownerUserId).toBeNull();
  });

  it('refuses an expired key, and a previous hash once its grace period is over', () => {
    const cache = createKeyCache();
    const t = 1_000_000;
    cache.set(row({ hash: 'new', previousHash: 'old', previousExpiresAt: new Date(t + 10) }));
    cache.set(row({ id: 'key_2', hash: 'h2', expiresAt: new Date(t + 5) }));
    expect(cache.lookup('old', t).status).toBe('hit');
    expect(cache.lookup('old', t + 10).status).toBe('refused');
    expect(cache.lookup('new', t + 10).status).toBe('hit');
    expect(cache.lookup('h2', t).status).toBe('hit');
    expect(cache.lookup('h2', t + 5).status).toBe('refused');
  });

  it('drops the old hashes when a key is rotated or revoked', () => {
    const cache = createKeyCache();
    cache.set(row({ hash: 'a', previousHash: 'z', previousExpiresAt: new Date(Date.now() + 60_000) }));
    cache.set(row({ hash: 'b' }));
    expect(cache.lookup('a', Date.now()).status).toBe('miss');
    expect(cache.lookup('z', Date.now()).status).toBe('miss');
    cache.set(row({ hash: 'b', revokedAt: new Date() }));
    expect(cache.lookup('b', Date.now()).status).toBe('miss');
    expect(cache.size).toBe(0);
  });
});
