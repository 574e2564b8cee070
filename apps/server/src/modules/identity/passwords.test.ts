import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from './passwords.ts';

describe('password hasher', () => {
  it('hashes and verifies with argon2id', async () => {
    const h = createPasswordHasher({ concurrency: 2, maxQueue: 10 });
    const hash = await h.hash('a long enough password');
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await h.verify(hash, 'a long enough password')).toBe(true);
    expect(await h.verify(hash, 'another password')).toBe(false);
    expect(await h.verify(null, 'unknown user')).toBe(false);
  });

  it('runs at most `concurrency` at once and refuses beyond the queue with 503', async () => {
    const h = createPasswordHasher({ concurrency: 1, maxQueue: 2 });
    let most = 0;
    const timer = setInterval(() => {
      most = Math.max(most, h.active);
    }, 1);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => h.hash(`password-${i}`)));
    clearInterval(timer);
    expect(most).toBe(1);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBe(3);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      status: 503,
      headers: { 'retry-after': '1' },
    });
  });
});
