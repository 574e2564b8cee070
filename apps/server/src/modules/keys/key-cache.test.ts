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
    cache.apply('key_1', row({ models: ['m'] }), cache.beginRead());
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
    cache.apply('key_1', row({ createdBy: 'usr_1' }), cache.beginRead());
    cache.apply('key_2', row({ id: 'key_2', hash: 'h9', createdBy: 'key_1' }), cache.beginRead());
    expect(cache.principalOf('key_1', Date.now())?.ownerUserId).toBe('usr_1');
    expect(cache.principalOf('key_2', Date.now())?.ownerUserId).toBeNull();
  });

  it('refuses an expired key, and a previous hash once its grace period is over', () => {
    const cache = createKeyCache();
    const t = 1_000_000;
    cache.apply(
      'key_1',
      row({ hash: 'new', previousHash: 'old', previousExpiresAt: new Date(t + 10) }),
      cache.beginRead(),
    );
    cache.apply('key_2', row({ id: 'key_2', hash: 'h2', expiresAt: new Date(t + 5) }), cache.beginRead());
    expect(cache.lookup('old', t).status).toBe('hit');
    expect(cache.lookup('old', t + 10).status).toBe('refused');
    expect(cache.lookup('new', t + 10).status).toBe('hit');
    expect(cache.lookup('h2', t).status).toBe('hit');
    expect(cache.lookup('h2', t + 5).status).toBe('refused');
  });

  it('drops the old hashes when a key is rotated or revoked', () => {
    const cache = createKeyCache();
    cache.apply(
      'key_1',
      row({ hash: 'a', previousHash: 'z', previousExpiresAt: new Date(Date.now() + 60_000) }),
      cache.beginRead(),
    );
    cache.apply('key_1', row({ hash: 'b' }), cache.beginRead());
    expect(cache.lookup('a', Date.now()).status).toBe('miss');
    expect(cache.lookup('z', Date.now()).status).toBe('miss');
    cache.apply('key_1', row({ hash: 'b', revokedAt: new Date() }), cache.beginRead());
    expect(cache.lookup('b', Date.now()).status).toBe('miss');
    expect(cache.size).toBe(0);
  });

  it('never lets a read that started earlier undo one that started later', () => {
    const cache = createKeyCache();
    const full = cache.beginRead();
    const slow = cache.beginRead();
    const fast = cache.beginRead();
    cache.apply('key_1', null, fast); // saw it revoked
    cache.apply('key_1', row(), slow); // stale: saw it active
    expect(cache.lookup('h1', Date.now()).status).toBe('miss');

    const perKey = cache.beginRead();
    cache.apply('key_2', row({ id: 'key_2', hash: 'h2' }), perKey);
    cache.replaceAll([row()], full); // started before key_2 existed and before key_1 was revoked
    expect(cache.lookup('h1', Date.now()).status).toBe('miss');
    expect(cache.lookup('h2', Date.now()).status).toBe('hit');

    // A lookup that began before a full reload cannot bring back a key that reload no longer saw.
    const lookup = cache.beginRead();
    cache.replaceAll([], cache.beginRead());
    cache.apply('key_3', row({ id: 'key_3', hash: 'h3' }), lookup);
    expect(cache.lookup('h3', Date.now()).status).toBe('miss');
  });

  it('replaces everything on a full reload', () => {
    const cache = createKeyCache();
    cache.apply('key_1', row(), cache.beginRead());
    cache.replaceAll([row({ id: 'key_2', hash: 'h2' })], cache.beginRead());
    expect(cache.lookup('h1', Date.now()).status).toBe('miss');
    expect(cache.lookup('h2', Date.now()).status).toBe('hit');
    expect(cache.size).toBe(1);
  });
});
